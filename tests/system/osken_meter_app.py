"""An os-ken application that meters port 1's traffic to port 2.

On a switch's FEATURES_REPLY it adds meter 1 (packets per second, burst,
stats; one drop band) with an OFPMeterMod, then a flow in_port=1 with the
meter instruction and output:2, and a flow in_port=2 -> output:1 without
a meter, as a controller that polices one direction does.  The rate and
burst come from the environment (OSKEN_METER_RATE, OSKEN_METER_BURST).

Run with: osken-manager --ofp-tcp-listen-port PORT osken_meter_app.py
"""

import os

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, set_ev_cls
from os_ken.ofproto import ofproto_v1_3


class MeterApp13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        ofp, parser = dp.ofproto, dp.ofproto_parser
        rate = int(os.environ["OSKEN_METER_RATE"])
        burst = int(os.environ["OSKEN_METER_BURST"])
        band = parser.OFPMeterBandDrop(rate=rate, burst_size=burst)
        dp.send_msg(parser.OFPMeterMod(
            datapath=dp, command=ofp.OFPMC_ADD,
            flags=ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS,
            meter_id=1, bands=[band]))
        for in_port, out_port, meter in ((1, 2, True), (2, 1, False)):
            insts = [parser.OFPInstructionActions(
                ofp.OFPIT_APPLY_ACTIONS, [parser.OFPActionOutput(out_port)])]
            if meter:
                insts.insert(0, parser.OFPInstructionMeter(1))
            dp.send_msg(parser.OFPFlowMod(
                datapath=dp, priority=10,
                match=parser.OFPMatch(in_port=in_port), instructions=insts))
        self.logger.info("switch %016x: meter 1 and its flows installed",
                         dp.id)
