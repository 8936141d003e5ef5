/* A program that uses an installed (or add_subdirectory'd) Mote core: encodes a PUBLISH and
 * validates a JSON document, and prints what it got. */
#include <stdio.h>
#include <string.h>

#include "mote/json.h"
#include "mote/mqtt_codec.h"

int main(void)
{
    uint8_t buf[128];
    mote_mqtt_publish_t p;
    const char doc[] = "{\"state\":{\"desired\":{\"on\":true}}}";
    mote_json_error_t jerr;
    int32_t n;

    memset(&p, 0, sizeof p);
    p.topic = MOTE_STR("dt/device/telemetry");
    p.payload = MOTE_STR("21.5");
    p.qos = 1;
    p.packet_id = 7;
    n = mote_mqtt_encode_publish(buf, sizeof buf, MOTE_MQTT_VERSION_311, &p);
    if (n <= 0) {
        fprintf(stderr, "encode failed: %s\n", mote_strerror(n));
        return 1;
    }
    if (mote_json_validate(doc, sizeof doc - 1, &jerr) != MOTE_OK) {
        fprintf(stderr, "validate failed\n");
        return 1;
    }
    printf("publish %d bytes, json ok\n", (int)n);
    return 0;
}
