"""An os-ken application that installs an OpenFlow 1.3 pipeline using
groups, a meter and the action set, for tests/system/test_osken_pipeline.py.

On a switch's FEATURES_REPLY it sends, in order:

  group 1  select, two buckets of weight 1: output:2 / output:3
  group 2  fast-failover: watch_port 2 -> output:2, watch_port 3 -> output:3
  meter 1  pktps, burst, stats; one drop band (rate RATE, burst BURST)
  table 0  udp,tp_dst=1000  apply(group:1)
           udp,tp_dst=2000  apply(group:2)
           udp,tp_dst=3000  meter:1, apply(output:4)
           udp,tp_dst=4000  write_actions(output:4), goto_table:1
           udp,tp_dst=5000  write_actions(output:4), goto_table:1
  table 1  udp,tp_dst=4000  (no instruction: the action set runs, output:4)
           udp,tp_dst=5000  clear_actions (nothing is left to run: dropped)

then a BARRIER_REQUEST, and logs "pipeline installed" on its reply.  Every
OpenFlow error the switch returns is logged as "switch error type=T
code=C", so that the test can assert there were none.

Run with: osken-manager --ofp-tcp-listen-port PORT osken_pipeline_app.py
"""

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import (CONFIG_DISPATCHER, MAIN_DISPATCHER,
                                       set_ev_cls)
from os_ken.ofproto import ofproto_v1_3

RATE = 200  # Packets per second.
BURST = 20  # Packets.
UDP = 17


class Pipeline13(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    @staticmethod
    def _groups(dp):
        ofp, parser = dp.ofproto, dp.ofproto_parser

        def bucket(port, weight=0, watch=None):
            return parser.OFPBucket(
                weight=weight,
                watch_port=ofp.OFPP_ANY if watch is None else watch,
                watch_group=ofp.OFPG_ANY,
                actions=[parser.OFPActionOutput(port)])

        dp.send_msg(parser.OFPGroupMod(dp, ofp.OFPGC_ADD, ofp.OFPGT_SELECT, 1,
                                       [bucket(2, 1), bucket(3, 1)]))
        dp.send_msg(parser.OFPGroupMod(dp, ofp.OFPGC_ADD, ofp.OFPGT_FF, 2,
                                       [bucket(2, watch=2),
                                        bucket(3, watch=3)]))

    @staticmethod
    def _meter(dp):
        ofp, parser = dp.ofproto, dp.ofproto_parser
        flags = ofp.OFPMF_PKTPS | ofp.OFPMF_BURST | ofp.OFPMF_STATS
        band = parser.OFPMeterBandDrop(rate=RATE, burst_size=BURST)
        dp.send_msg(parser.OFPMeterMod(dp, command=ofp.OFPMC_ADD,
                                       flags=flags, meter_id=1,
                                       bands=[band]))

    @staticmethod
    def _flow(dp, table, tp_dst, inst):
        parser = dp.ofproto_parser
        match = parser.OFPMatch(eth_type=0x0800, ip_proto=UDP,
                                udp_dst=tp_dst)
        dp.send_msg(parser.OFPFlowMod(datapath=dp, table_id=table,
                                      priority=10, match=match,
                                      instructions=inst))

    def _flows(self, dp):
        ofp, parser = dp.ofproto, dp.ofproto_parser

        def apply(*actions):
            return parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS,
                                                list(actions))

        def write(*actions):
            return parser.OFPInstructionActions(ofp.OFPIT_WRITE_ACTIONS,
                                                list(actions))

        out4 = parser.OFPActionOutput(4)
        goto1 = parser.OFPInstructionGotoTable(1)
        self._flow(dp, 0, 1000, [apply(parser.OFPActionGroup(1))])
        self._flow(dp, 0, 2000, [apply(parser.OFPActionGroup(2))])
        self._flow(dp, 0, 3000, [parser.OFPInstructionMeter(1), apply(out4)])
        self._flow(dp, 0, 4000, [write(out4), goto1])
        self._flow(dp, 0, 5000, [write(out4), goto1])
        self._flow(dp, 1, 4000, [])
        self._flow(dp, 1, 5000, [parser.OFPInstructionActions(
            ofp.OFPIT_CLEAR_ACTIONS, [])])

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        self._groups(dp)
        self._meter(dp)
        self._flows(dp)
        dp.send_msg(dp.ofproto_parser.OFPBarrierRequest(dp))

    @set_ev_cls(ofp_event.EventOFPBarrierReply,
                [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_barrier(self, ev):
        self.logger.info("pipeline installed on %016x", ev.msg.datapath.id)

    @set_ev_cls(ofp_event.EventOFPErrorMsg,
                [CONFIG_DISPATCHER, MAIN_DISPATCHER])
    def on_error(self, ev):
        self.logger.info("switch error type=%d code=%d", ev.msg.type,
                         ev.msg.code)
