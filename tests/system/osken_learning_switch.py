"""An os-ken application that behaves as os-ken's simple_switch_13 example.

Debian's python3-os-ken ships the framework but not its example
applications, so the controller tests run this one, written for them: on
a switch's FEATURES_REPLY it installs a table-miss flow (priority 0,
match everything, output to the controller without buffering); on every
packet-in it learns the source MAC on the input port, looks the
destination up, and if it is known installs a priority-1 flow on in_port,
eth_dst and eth_src that outputs to the learned port; it then sends the
packet on with a packet-out (to the learned port, or FLOOD).  One MAC
table per datapath id, as the example keeps.

Run with: osken-manager --ofp-tcp-listen-port PORT osken_learning_switch.py
"""

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import (CONFIG_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.lib.packet import ether_types, ethernet, packet
from os_ken.ofproto import ofproto_v1_3


class LearningSwitch13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tables = {}  # dpid -> {mac: port}

    @staticmethod
    def _flow(datapath, priority, match, actions):
        ofp, parser = datapath.ofproto, datapath.ofproto_parser
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                             actions)]
        datapath.send_msg(parser.OFPFlowMod(datapath=datapath,
                                            priority=priority, match=match,
                                            instructions=inst))

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        datapath = ev.msg.datapath
        ofp, parser = datapath.ofproto, datapath.ofproto_parser
        to_controller = parser.OFPActionOutput(ofp.OFPP_CONTROLLER,
                                               ofp.OFPCML_NO_BUFFER)
        self._flow(datapath, 0, parser.OFPMatch(), [to_controller])
        self.logger.info("switch %016x: table-miss flow installed",
                         datapath.id)

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        datapath = msg.datapath
        ofp, parser = datapath.ofproto, datapath.ofproto_parser
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocols(ethernet.ethernet)[0]
        if eth.ethertype == ether_types.ETH_TYPE_LLDP:
            return

        table = self.tables.setdefault(datapath.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_dst=eth.dst,
                                    eth_src=eth.src)
            self._flow(datapath, 1, match, actions)

        data = msg.data if msg.buffer_id == ofp.OFP_NO_BUFFER else None
        datapath.send_msg(parser.OFPPacketOut(datapath=datapath,
                                              buffer_id=msg.buffer_id,
                                              in_port=in_port,
                                              actions=actions, data=data))
