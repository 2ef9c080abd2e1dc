// The baselines and floors every Stella result is compared with, measured in the same run.
#pragma once

#include "../transport.hpp"

namespace stella::bench {

TransportInfo pipe_transport();              // pipe(2), length-prefixed frames, 1 MiB pipe buffer
TransportInfo unix_seqpacket_transport();    // socketpair(AF_UNIX, SOCK_SEQPACKET)
TransportInfo posix_mq_transport();          // mq_open/mq_send/mq_receive
TransportInfo boost_mq_transport();          // boost::interprocess::message_queue
TransportInfo spsc_ring_transport(bool reader_publishes_per_batch);  // hand-written SPSC ring
TransportInfo cacheline_floor_transport();   // one cache line handed between two cores (spin)
TransportInfo futex_floor_transport();       // one futex hand-off to a sleeping reader

}  // namespace stella::bench
