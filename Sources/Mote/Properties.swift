import CMote

/// Encoding and decoding of v5 properties between Swift values and the C core's byte form.
enum PropertyCodec {
    static let payloadFormat = UInt8(MOTE_PROP_PAYLOAD_FORMAT.rawValue)
    static let messageExpiry = UInt8(MOTE_PROP_MESSAGE_EXPIRY.rawValue)
    static let contentType = UInt8(MOTE_PROP_CONTENT_TYPE.rawValue)
    static let responseTopic = UInt8(MOTE_PROP_RESPONSE_TOPIC.rawValue)
    static let correlationData = UInt8(MOTE_PROP_CORRELATION_DATA.rawValue)
    static let subscriptionID = UInt8(MOTE_PROP_SUBSCRIPTION_ID.rawValue)
    static let sessionExpiry = UInt8(MOTE_PROP_SESSION_EXPIRY.rawValue)
    static let willDelay = UInt8(MOTE_PROP_WILL_DELAY.rawValue)
    static let userProperty = UInt8(MOTE_PROP_USER_PROPERTY.rawValue)
    static let reasonString = UInt8(MOTE_PROP_REASON_STRING.rawValue)

    /// An upper bound of the encoded size.
    static func sizeBound(_ p: MQTTPublishProperties) -> Int {
        var n = 16
        n += (p.contentType?.utf8.count ?? 0) + 3
        n += (p.responseTopic?.utf8.count ?? 0) + 3
        n += (p.correlationData?.count ?? 0) + 3
        for u in p.userProperties { n += u.key.utf8.count + u.value.utf8.count + 5 }
        return n
    }

    /// Encode into `buf` (capacity `cap`); returns the encoded length.
    static func encode(_ p: MQTTPublishProperties, extra: [(UInt8, UInt32)] = [],
                       into buf: UnsafeMutablePointer<UInt8>, cap: Int) throws(MQTTError) -> Int {
        var b = mote_mqtt_props_builder_t()
        mote_mqtt_props_init(&b, buf, cap)
        func check(_ r: mote_err_t) throws(MQTTError) {
            if r != MOTE_OK { throw .invalidArgument("property: " + MoteCoreError(code: r.rawValue).description) }
        }
        func addBytes(_ id: UInt8, _ bytes: [UInt8]) throws(MQTTError) {
            let r = bytes.withUnsafeBufferPointer { bp in
                mote_mqtt_props_add_bytes(&b, id, mote_bytes_t(ptr: bp.baseAddress, len: bp.count))
            }
            try check(r)
        }
        for (id, v) in extra { try check(mote_mqtt_props_add_int(&b, id, v)) }
        if let v = p.payloadFormatIndicator { try check(mote_mqtt_props_add_int(&b, payloadFormat, UInt32(v))) }
        if let v = p.messageExpiryInterval { try check(mote_mqtt_props_add_int(&b, messageExpiry, v)) }
        if let v = p.contentType { try addBytes(contentType, Array(v.utf8)) }
        if let v = p.responseTopic { try addBytes(responseTopic, Array(v.utf8)) }
        if let v = p.correlationData { try addBytes(correlationData, v) }
        for u in p.userProperties {
            let k = Array(u.key.utf8), v = Array(u.value.utf8)
            let r = k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    mote_mqtt_props_add_user(&b, mote_bytes_t(ptr: kp.baseAddress, len: kp.count),
                                             mote_bytes_t(ptr: vp.baseAddress, len: vp.count))
                }
            }
            try check(r)
        }
        return b.len
    }

    static func string(_ b: mote_bytes_t) -> String {
        guard let p = b.ptr, b.len > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: p, count: b.len), as: UTF8.self)
    }

    static func bytes(_ b: mote_bytes_t) -> [UInt8] {
        guard let p = b.ptr, b.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: b.len))
    }

    /// Decode the properties of an incoming PUBLISH.
    static func decodePublish(_ props: mote_mqtt_props_t) -> MQTTPublishProperties {
        var out = MQTTPublishProperties()
        guard props.len > 0 else { return out }
        var cursor = 0
        var p = mote_mqtt_prop_t()
        while mote_mqtt_prop_next(props, &cursor, &p) {
            switch p.id {
            case payloadFormat: out.payloadFormatIndicator = UInt8(truncatingIfNeeded: p.u32)
            case messageExpiry: out.messageExpiryInterval = p.u32
            case contentType: out.contentType = string(p.value)
            case responseTopic: out.responseTopic = string(p.value)
            case correlationData: out.correlationData = bytes(p.value)
            case subscriptionID: out.subscriptionIdentifiers.append(p.u32)
            case userProperty: out.userProperties.append(MQTTUserProperty(string(p.key), string(p.value)))
            default: break
            }
        }
        return out
    }

    /// The reason string property, if present (for error messages).
    static func reasonString(_ props: mote_mqtt_props_t) -> String? {
        guard props.len > 0 else { return nil }
        var p = mote_mqtt_prop_t()
        guard mote_mqtt_prop_find(props, reasonString, &p) else { return nil }
        return string(p.value)
    }
}
