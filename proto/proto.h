/* proto/proto.h: the public header of proto/, the Kafka wire codec shared
 * by broker and clients: primitive types, API table and headers, and the
 * request/response messages, Kafka's and Tern's inter-broker ones. */
#ifndef TERN_PROTO_PROTO_H
#define TERN_PROTO_PROTO_H

#include "proto/wire.h"
#include "proto/api.h"
#include "proto/msg_data.h"
#include "proto/msg_admin.h"
#include "proto/msg_cluster.h"
#include "proto/transport.h"

#endif
