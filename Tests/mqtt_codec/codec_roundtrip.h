/* Test helper shared by the codec unit tests and the decoder fuzz target: decode one whole
 * packet with the decoder its type calls for, then encode the decoded structure again.
 * Encoders must accept everything the decoders accept and write it back canonically. */
#ifndef MOTE_TEST_CODEC_ROUNDTRIP_H
#define MOTE_TEST_CODEC_ROUNDTRIP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mote/mqtt_codec.h"

#define RT_MAX_FILTERS 2048

/* Packet types whose encoding has a single form: re-encoding gives the input bytes back.
 * (Acks, DISCONNECT and AUTH have v5 short forms, so they may come back shorter.) */
static inline bool rt_canonical_type(uint8_t type)
{
    return !(type >= MOTE_MQTT_PUBACK && type <= MOTE_MQTT_PUBCOMP) &&
           type != MOTE_MQTT_DISCONNECT && type != MOTE_MQTT_AUTH;
}

/* Validated properties must iterate to their exact end. */
static inline bool rt_props_walk(mote_mqtt_props_t props)
{
    size_t cur = 0;
    mote_mqtt_prop_t pr;
    while (mote_mqtt_prop_next(props, &cur, &pr))
        if (pr.id == 0)
            return false;
    return cur == props.len;
}

/* Decode the packet at pkt (len bytes, exactly one packet) for version v (CONNECT carries
 * its own) and re-encode it into out. Returns the re-encoded length, or the decoder's
 * error as a negative mote_err_t (*stage = 1), or the encoder's error (*stage = 2). */
static inline int32_t rt_reencode(const uint8_t *pkt, size_t len, mote_mqtt_version_t v,
                                  uint8_t *out, size_t cap, int *stage)
{
    static mote_mqtt_subscription_t subs[RT_MAX_FILTERS];
    static mote_bytes_t filters[RT_MAX_FILTERS];
    uint8_t type, flags;
    uint32_t rem;
    size_t hl, count, cur = 0;
    uint16_t pid;
    mote_mqtt_props_t props;
    mote_err_t e;
    *stage = 1;
    e = mote_mqtt_decode_fixed_header(pkt, len, &type, &flags, &rem, &hl);
    if (e)
        return e;
    if (hl + rem > len)
        return MOTE_ERR_NEED_MORE;
    const uint8_t *body = pkt + hl;
    switch (type) {
    case MOTE_MQTT_CONNECT: {
        mote_mqtt_connect_t c;
        mote_mqtt_will_t w;
        e = mote_mqtt_decode_connect(body, rem, &c, &w);
        if (e)
            return e;
        /* 3.1.1 without a client id or clean session: a server decodes it to answer
         * "identifier rejected", a client may not send it (the encoder refuses it). */
        if (c.version == MOTE_MQTT_VERSION_311 && !c.client_id.len && !c.clean_start)
            return MOTE_ERR_BAD_ARG;
        *stage = 2;
        if (!rt_props_walk(c.props) || (c.will && !rt_props_walk(c.will->props)))
            return MOTE_ERR_STATE;
        return mote_mqtt_encode_connect(out, cap, &c);
    }
    case MOTE_MQTT_CONNACK: {
        mote_mqtt_connack_t c;
        e = mote_mqtt_decode_connack(body, rem, v, &c);
        if (e)
            return e;
        *stage = 2;
        if (!rt_props_walk(c.props))
            return MOTE_ERR_STATE;
        return mote_mqtt_encode_connack(out, cap, v, &c);
    }
    case MOTE_MQTT_PUBLISH: {
        mote_mqtt_publish_t p;
        e = mote_mqtt_decode_publish(body, rem, flags, v, &p);
        if (e)
            return e;
        *stage = 2;
        if (!rt_props_walk(p.props))
            return MOTE_ERR_STATE;
        return mote_mqtt_encode_publish(out, cap, v, &p);
    }
    case MOTE_MQTT_PUBACK:
    case MOTE_MQTT_PUBREC:
    case MOTE_MQTT_PUBREL:
    case MOTE_MQTT_PUBCOMP: {
        mote_mqtt_ack_t a;
        e = mote_mqtt_decode_ack(body, rem, type, flags, v, &a);
        if (e)
            return e;
        *stage = 2;
        if (!rt_props_walk(a.props))
            return MOTE_ERR_STATE;
        return mote_mqtt_encode_ack(out, cap, v, type, &a);
    }
    case MOTE_MQTT_SUBSCRIBE:
        e = mote_mqtt_decode_subscribe(body, rem, flags, v, &pid, &props, &count);
        if (e)
            return e;
        *stage = 2;
        if (!rt_props_walk(props))
            return MOTE_ERR_STATE;
        if (count > RT_MAX_FILTERS)
            return MOTE_ERR_NO_SPACE;
        for (size_t i = 0; i < count; i++)
            if (!mote_mqtt_subscribe_next(body, rem, v, &cur, &subs[i]))
                return MOTE_ERR_STATE;
        if (mote_mqtt_subscribe_next(body, rem, v, &cur, &subs[0]))
            return MOTE_ERR_STATE; /* the walk must end where the count says */
        return mote_mqtt_encode_subscribe(out, cap, v, pid, subs, count, props);
    case MOTE_MQTT_UNSUBSCRIBE:
        e = mote_mqtt_decode_unsubscribe(body, rem, flags, v, &pid, &props, &count);
        if (e)
            return e;
        *stage = 2;
        if (count > RT_MAX_FILTERS)
            return MOTE_ERR_NO_SPACE;
        for (size_t i = 0; i < count; i++)
            if (!mote_mqtt_unsubscribe_next(body, rem, v, &cur, &filters[i]))
                return MOTE_ERR_STATE;
        if (mote_mqtt_unsubscribe_next(body, rem, v, &cur, &filters[0]))
            return MOTE_ERR_STATE;
        return mote_mqtt_encode_unsubscribe(out, cap, v, pid, filters, count, props);
    case MOTE_MQTT_SUBACK:
    case MOTE_MQTT_UNSUBACK: {
        mote_mqtt_suback_t s;
        e = mote_mqtt_decode_suback(body, rem, type, v, &s);
        if (e)
            return e;
        *stage = 2;
        if (!rt_props_walk(s.props))
            return MOTE_ERR_STATE;
        return mote_mqtt_encode_suback(out, cap, v, type, &s);
    }
    case MOTE_MQTT_PINGREQ:
        *stage = 2;
        return mote_mqtt_encode_pingreq(out, cap);
    case MOTE_MQTT_PINGRESP:
        *stage = 2;
        return mote_mqtt_encode_pingresp(out, cap);
    case MOTE_MQTT_DISCONNECT:
    case MOTE_MQTT_AUTH: {
        mote_mqtt_ack_t a;
        e = mote_mqtt_decode_disconnect(body, rem, type, v, &a);
        if (e)
            return e;
        *stage = 2;
        if (!rt_props_walk(a.props))
            return MOTE_ERR_STATE;
        if (type == MOTE_MQTT_AUTH)
            return mote_mqtt_encode_auth(out, cap, a.reason_code, a.props);
        return mote_mqtt_encode_disconnect(out, cap, v, a.reason_code, a.props);
    }
    default:
        return MOTE_ERR_BAD_PACKET_TYPE;
    }
}

#endif
