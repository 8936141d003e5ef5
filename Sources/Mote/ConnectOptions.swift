import CMote

/// Builds `mote_mqtt_connect_opts_t` for one connect call; every byte it points at lives in
/// one block freed when the call returns (the C client encodes CONNECT during the call).
enum ConnectOptions {
    /// `clientID` replaces the configured one (an identifier the broker assigned before).
    static func withOptions<R>(_ cfg: MQTTConfiguration, clientID: String, cleanStart: Bool,
                               _ body: (UnsafePointer<mote_mqtt_connect_opts_t>) -> R) -> R {
        var arena = Arena()
        defer { arena.free() }
        var opts = mote_mqtt_connect_opts_t()
        opts.version = mote_mqtt_version_t(rawValue: cfg.protocolVersion == .v5 ? 5 : 4)
        opts.client_id = arena.bytes(Array(clientID.utf8))
        opts.clean_start = cleanStart
        let keepAlive = RetryMath.milliseconds(cfg.keepAlive) / 1000
        opts.keep_alive_s = UInt16(clamping: keepAlive)
        if let u = cfg.username { opts.username = arena.bytes(Array(u.utf8), keepEmpty: true) }
        if let p = cfg.password { opts.password = arena.bytes(p, keepEmpty: true) }
        opts.session_expiry_s = cfg.sessionExpiryInterval
        opts.max_packet_size = cfg.maximumPacketSize
        if cfg.protocolVersion == .v5 && !cfg.connectUserProperties.isEmpty {
            let props = MQTTPublishProperties(userProperties: cfg.connectUserProperties)
            let cap = PropertyCodec.sizeBound(props)
            let buf = arena.alloc(cap)
            let len = (try? PropertyCodec.encode(props, into: buf, cap: cap)) ?? 0
            opts.extra_props = mote_mqtt_props_t(ptr: buf, len: len)
        }
        let willPtr = UnsafeMutablePointer<mote_mqtt_will_t>.allocate(capacity: 1)
        defer { willPtr.deallocate() }
        if let will = cfg.will {
            var w = mote_mqtt_will_t()
            w.topic = arena.bytes(Array(will.topic.utf8))
            w.payload = arena.bytes(will.payload, keepEmpty: true)
            w.qos = will.qos.rawValue
            w.retain = will.retain
            if cfg.protocolVersion == .v5 {
                let cap = PropertyCodec.sizeBound(will.properties) + 8
                let buf = arena.alloc(cap)
                let extra: [(UInt8, UInt32)] = will.delayInterval.map { [(PropertyCodec.willDelay, $0)] } ?? []
                let len = (try? PropertyCodec.encode(will.properties, extra: extra, into: buf, cap: cap)) ?? 0
                w.props = mote_mqtt_props_t(ptr: len > 0 ? buf : nil, len: len)
            }
            willPtr.initialize(to: w)
            opts.will = UnsafePointer(willPtr)
        }
        return withUnsafePointer(to: &opts) { body($0) }
    }

    /// Scratch memory for one call.
    struct Arena {
        var blocks: [UnsafeMutablePointer<UInt8>] = []
        mutating func alloc(_ n: Int) -> UnsafeMutablePointer<UInt8> {
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
            blocks.append(p)
            return p
        }
        mutating func bytes(_ b: [UInt8], keepEmpty: Bool = false) -> mote_bytes_t {
            let p = alloc(b.count)
            if !b.isEmpty { b.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: b.count) } }
            if b.isEmpty && !keepEmpty { return mote_bytes_t(ptr: nil, len: 0) }
            return mote_bytes_t(ptr: p, len: b.count)
        }
        func free() { blocks.forEach { $0.deallocate() } }
    }
}
