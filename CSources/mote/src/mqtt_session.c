/* MQTT session state in caller-provided arrays: outgoing QoS 1/2 records, packet ids,
 * the resend order after a reconnect, and incoming QoS 2 ids awaiting PUBREL.
 *
 * Packet id -> record is O(1): a packet id always lives in slot (id - 1) % count, and ids
 * are handed out so that this slot is free. Acks arriving in roughly the order of sending
 * (the normal case) therefore cost the same with 100 records as with 20. */
#include <string.h>

#include "mqtt_client_internal.h"

static uint16_t slot_of(const mote_mqtt_client_t *c, uint16_t id)
{
    return (uint16_t)((uint16_t)(id - 1u) % c->cfg->inflight_count);
}

mote_mqtt_inflight_t *mote_session_find(const mote_mqtt_client_t *c, uint16_t packet_id)
{
    mote_mqtt_inflight_t *r;
    if (c->cfg->inflight_count == 0 || packet_id == 0)
        return NULL;
    r = &c->cfg->inflight[slot_of(c, packet_id)];
    return r->packet_id == packet_id ? r : NULL;
}

/* Packet ids are unique among everything in flight, whatever the packet type: the next id
 * skips those of in-flight records and of SUBSCRIBE / UNSUBSCRIBE requests awaiting acks. */
uint16_t mote_session_next_id(mote_mqtt_client_t *c)
{
    uint32_t id = c->next_packet_id; /* the id handed out last (0 before the first) */
    do {
        if (++id >> 16)
            id = 1; /* 65535 -> 1 */
    } while (mote_session_find(c, (uint16_t)id) != NULL ||
             mote_session_sub_swap(c, (uint16_t)id, (uint16_t)id));
    c->next_packet_id = (uint16_t)id;
    return (uint16_t)id;
}

mote_mqtt_inflight_t *mote_session_alloc(mote_mqtt_client_t *c)
{
    uint32_t tries;
    uint32_t n = c->cfg->inflight_count;
    if (c->inflight_used >= n)
        return NULL;
    /* Consecutive ids visit consecutive slots, so a free slot turns up within n ids: 2n
     * covers the jump where ids wrap from 65535 to 1, and n more per pending SUBSCRIBE
     * id that mote_session_next_id skips (each can hide the free slot once). */
    for (tries = 0; tries < (2u + MOTE_MQTT_MAX_PENDING_SUBS) * n; tries++) {
        uint16_t id = mote_session_next_id(c);
        mote_mqtt_inflight_t *r = &c->cfg->inflight[slot_of(c, id)];
        if (r->packet_id == 0) {
            r->packet_id = id;
            r->state = 0;
            c->inflight_used++;
            return r;
        }
    }
    return NULL;
}

void mote_session_free(mote_mqtt_client_t *c, mote_mqtt_inflight_t *r)
{
    if (r->state & IF_RESEND)
        c->resend_left--;
    r->packet_id = 0;
    r->state = 0;
    c->inflight_used--;
}

void mote_session_done(mote_mqtt_client_t *c, mote_mqtt_inflight_t *r, const mote_mqtt_ack_t *a)
{
    mote_mqtt_event_t evt;
    evt.u.ack = *a;
    mote_session_free(c, r);
    mote_client_emit(c, &evt, MOTE_MQTT_EVT_PUBLISH_DONE);
}

bool mote_session_sub_swap(mote_mqtt_client_t *c, uint16_t want, uint16_t put)
{
    uint16_t *p = c->sub_pending + MOTE_MQTT_MAX_PENDING_SUBS;
    while (p != c->sub_pending)
        if (*--p == want) {
            *p = put;
            return true;
        }
    return false;
}

void mote_session_on_connack(mote_mqtt_client_t *c, bool session_present)
{
    uint16_t i;
    const mote_mqtt_client_config_t *cfg = c->cfg;
    c->resend_left = 0;
    for (i = 0; i < cfg->inflight_count; i++) {
        mote_mqtt_inflight_t *r = &cfg->inflight[i];
        if (r->packet_id == 0)
            continue;
        if (session_present) {
            r->state |= IF_RESEND;
            c->resend_left++;
        } else {
            /* Not delivered (0x80), but for a QoS 2 message the server took with PUBREC:
             * delivered, only its PUBCOMP went with the session (sending it again would
             * deliver it twice). */
            mote_mqtt_ack_t a = { r->packet_id, IF_STATE(r->state) == IF_PUBCOMP ? 0u : 0x80u, { NULL, 0 } };
            r->state = 0; /* (resend_left was reset above) */
            mote_session_done(c, r, &a);
        }
    }
    if (!session_present && cfg->qos2_rx_ids != NULL)
        memset(cfg->qos2_rx_ids, 0, (size_t)cfg->qos2_rx_count * sizeof cfg->qos2_rx_ids[0]);
}

mote_mqtt_inflight_t *mote_session_next_resend(const mote_mqtt_client_t *c)
{
    /* A reconnect is rare: a scan per resent record is cheap enough and needs no memory.
     * Sequence numbers are compared relative to the oldest possible one, so the order
     * survives the counter wrapping. */
    mote_mqtt_inflight_t *best = NULL, *r = c->cfg->inflight;
    uint16_t n;
    for (n = c->cfg->inflight_count; n != 0; n--, r++) {
        if (r->packet_id != 0 && (r->state & IF_RESEND) &&
            (best == NULL || (int32_t)(r->seq - best->seq) < 0))
            best = r;
    }
    return best;
}

/* Incoming QoS 2 ids awaiting PUBREL: the slot holding want (0: a free one), or NULL when
 * there is none (or no table). A plain scan: the table is bounded by the receive maximum
 * we announce, and only QoS 2 messages and PUBREL look here. */
static uint16_t *qos2_find(const mote_mqtt_client_t *c, uint16_t want)
{
    uint16_t *p = c->cfg->qos2_rx_ids, n;
    for (n = c->cfg->qos2_rx_count; n != 0; n--, p++)
        if (*p == want)
            return p;
    return NULL;
}

int mote_session_qos2_seen(mote_mqtt_client_t *c, uint16_t packet_id, bool record)
{
    uint16_t *slot = qos2_find(c, packet_id);
    if (slot != NULL)
        return 1;
    slot = qos2_find(c, 0);
    if (slot == NULL)
        return MOTE_ERR_NO_SPACE;
    if (record)
        *slot = packet_id;
    return 0;
}

bool mote_session_qos2_release(mote_mqtt_client_t *c, uint16_t packet_id)
{
    uint16_t *slot = qos2_find(c, packet_id);
    if (slot == NULL)
        return false;
    *slot = 0;
    return true;
}
