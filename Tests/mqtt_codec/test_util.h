/* Shared helpers for the codec cmocka tests. */
#ifndef MOTE_TEST_CODEC_UTIL_H
#define MOTE_TEST_CODEC_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec_roundtrip.h"
#include "mote/mqtt_codec.h"

#define V311 MOTE_MQTT_VERSION_311
#define V5 MOTE_MQTT_VERSION_5

/* A byte vector literal: BYTES(0x10, 0x02, ...). */
#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Compare encoder output with the expected bytes, printing both on mismatch. */
static inline void expect_bytes(const uint8_t *got, int32_t got_len, const uint8_t *want,
                                size_t want_len)
{
    if (got_len < 0 || (size_t)got_len != want_len || memcmp(got, want, want_len) != 0) {
        fprintf(stderr, "got (%d):", (int)got_len);
        for (int32_t i = 0; i < got_len && i < 200; i++)
            fprintf(stderr, " %02X", got[i]);
        fprintf(stderr, "\nwant (%zu):", want_len);
        for (size_t i = 0; i < want_len && i < 200; i++)
            fprintf(stderr, " %02X", want[i]);
        fprintf(stderr, "\n");
        fail_msg("encoded bytes differ");
    }
}

/* Split a whole packet into type/flags/body, asserting the fixed header is valid. */
static inline const uint8_t *body_of(const uint8_t *pkt, size_t len, uint8_t *type,
                                     uint8_t *flags, size_t *rem)
{
    uint32_t r;
    size_t hl;
    assert_int_equal(mote_mqtt_decode_fixed_header(pkt, len, type, flags, &r, &hl), MOTE_OK);
    assert_int_equal(hl + r, len);
    *rem = r;
    return pkt + hl;
}

/* Decode and re-encode a valid packet; the result must be byte-identical. Also feeds
 * every strict prefix through the stream check (it must ask for more) and the body
 * decoders (from an exact-size heap copy, so a read past the end is caught by ASan). */
static inline void check_roundtrip(const uint8_t *pkt, size_t len, mote_mqtt_version_t v)
{
    uint8_t out[1024];
    int stage;
    int32_t n = rt_reencode(pkt, len, v, out, sizeof out, &stage);
    if (n < 0)
        fail_msg("round trip failed at stage %d: %d", stage, (int)n);
    expect_bytes(out, n, pkt, len);
    for (size_t k = 0; k < len; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        assert_non_null(copy);
        memcpy(copy, pkt, k);
        int32_t r = rt_reencode(copy, k, v, out, sizeof out, &stage);
        assert_int_equal(r, MOTE_ERR_NEED_MORE);
        free(copy);
    }
    /* Lengths that lie: the same body cut short, with a remaining length that agrees with
     * the cut, so inner length fields now point past the end. Any result but a crash is
     * fine (a shorter PUBLISH payload is still a valid packet). */
    uint8_t type, flags;
    size_t rem;
    const uint8_t *body = body_of(pkt, len, &type, &flags, &rem);
    for (size_t k = 0; k < rem; k++) {
        uint8_t hdr[5] = { pkt[0] };
        size_t hl = 1, x = k;
        do {
            hdr[hl++] = (uint8_t)((x & 0x7Fu) | (x > 0x7Fu ? 0x80u : 0u));
            x >>= 7;
        } while (x);
        uint8_t *cut = malloc(hl + k);
        assert_non_null(cut);
        memcpy(cut, hdr, hl);
        memcpy(cut + hl, body, k);
        (void)rt_reencode(cut, hl + k, v, out, sizeof out, &stage);
        free(cut);
    }
}

#endif
