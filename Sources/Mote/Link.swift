import CMote
import CMotePOSIX
import CMoteShims
import Foundation

/// The byte stream under one client: plain TCP or mbedTLS, with the C structs allocated once
/// at stable addresses (the C client keeps a pointer to `transport`, the TLS context keeps
/// pointers into itself). Used only by the connection's owner thread.
final class Link {
    let transport: UnsafeMutablePointer<mote_transport_t>
    private let tcp: UnsafeMutablePointer<mote_tcp_t>
    private var tls: OpaquePointer?
    private let tlsSettings: MQTTConfiguration.TLS?
    private let localAddress: String?
    private(set) var isOpen = false

    init(tls: MQTTConfiguration.TLS?, localAddress: String? = nil) {
        self.localAddress = localAddress
        transport = .allocate(capacity: 1)
        transport.initialize(to: mote_transport_t())
        tcp = .allocate(capacity: 1)
        tcp.initialize(to: mote_tcp_t(fd: -1, last_errno: 0, recv_wait_ms: 0, bind_host: nil, bind_failed: 0))
        tlsSettings = tls
        // The C client checks at init that the transport has functions; a closed TCP link
        // (fd -1) fails every call until `open` connects it.
        mote_tcp_transport(tcp, transport)
    }

    deinit {
        close()
        if let tls { mote_tls_free(tls) }
        transport.deallocate()
        tcp.deallocate()
    }

    var usesTLS: Bool { tlsSettings != nil }

    /// Connect TCP (and TLS), then fill `transport`.
    func open(host: String, port: UInt16, timeoutMs: UInt32) throws(MQTTError) {
        close()
        if let settings = tlsSettings {
            if tls == nil { tls = try Self.makeTLS(settings, localAddress: localAddress) }
            guard let tls else { throw .tls(MoteCoreError(code: MOTE_ERR_TLS.rawValue), detail: "no TLS context") }
            // recv waits a little while CONNACK is awaited; `connected()` makes it non-waiting.
            mote_tls_set_read_wait(tls, 1)
            let r = mote_tls_connect(tls, host, port, timeoutMs)
            if r != MOTE_OK {
                throw MQTTError.fromCore(r.rawValue, detail: "\(host):\(port): " + Self.tlsDetail(tls))
            }
            mote_tls_transport(tls, transport)
        } else {
            // Wait briefly inside recv only while CONNACK is awaited; afterwards the owner
            // thread polls the socket itself and recv must not block.
            tcp.pointee.recv_wait_ms = 10
            // bind_host is read only during the connect: the C string lives that long.
            let r = Self.withOptionalCString(localAddress) { local in
                tcp.pointee.bind_host = local
                defer { tcp.pointee.bind_host = nil }
                return mote_tcp_connect(tcp, host, port, timeoutMs)
            }
            if r != MOTE_OK {
                let errnoText = tcp.pointee.last_errno != 0 ? String(cString: strerror(tcp.pointee.last_errno)) : ""
                let from = tcp.pointee.bind_failed != 0 ? " from local address \(localAddress ?? "")" : ""
                throw MQTTError.fromCore(r.rawValue, detail: "\(host):\(port)\(from)" + (errnoText.isEmpty ? "" : ": \(errnoText)"))
            }
            mote_tcp_transport(tcp, transport)
        }
        isOpen = true
    }

    /// After CONNACK: make TCP recv non-waiting (the owner thread waits in `wait`).
    func connected() {
        if let tls { mote_tls_set_read_wait(tls, 0) } else { tcp.pointee.recv_wait_ms = 0 }
    }

    func close() {
        guard isOpen else { return }
        isOpen = false
        if let tls { mote_tls_close(tls) } else { mote_tcp_close(tcp) }
    }

    /// Wait for input on the link (or for writability when `wantWrite`), or for the
    /// wake-up descriptor, at most `timeoutMs`.
    func wait(wantWrite: Bool, wakeFD: Int32, timeoutMs: UInt32) {
        if !isOpen {
            _ = cmote_wait(-1, 0, wakeFD, timeoutMs)
            return
        }
        if let tls {
            // mbedTLS may already hold decrypted bytes the socket does not show: ask it first
            // (this also pushes out staged records), then poll its socket with the wake-up fd.
            // Staged output that the kernel refused is retried at least every 50 ms.
            if mote_tls_wait_readable(tls, 0) != 0 { return }
            _ = cmote_wait(mote_tls_fd(tls), wantWrite ? 1 : 0, wakeFD, min(timeoutMs, 50))
            return
        }
        _ = cmote_wait(tcp.pointee.fd, wantWrite ? 1 : 0, wakeFD, timeoutMs)
    }

    /// Acknowledge the segments that arrive next at once, not after the delayed-ACK timer.
    /// Called before sleeping with publishes in flight and nothing more to send: brokers
    /// that leave Nagle on (mosquitto's default) hold back their next PUBACKs until this
    /// side acknowledges the segment with the first one, and with no data of ours to carry
    /// that acknowledgement, Linux waits ~40 ms, once per batch. (Linux clears the mode
    /// again on its own, hence before every such sleep.)
    func acknowledgeQuickly() {
        #if os(Linux)
        guard isOpen else { return }
        let fd = tls.map { mote_tls_fd($0) } ?? tcp.pointee.fd
        guard fd >= 0 else { return }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    private static func tlsDetail(_ tls: OpaquePointer) -> String {
        guard let p = mote_tls_last_error(tls) else { return "" }
        return String(cString: p)
    }

    /// Build the mbedTLS context once per client (trust and identity parsed here).
    private static func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let s else { return body(nil) }
        return s.withCString { body($0) }
    }

    private static func makeTLS(_ s: MQTTConfiguration.TLS, localAddress: String?) throws(MQTTError) -> OpaquePointer {
        var owned: [UnsafeMutableRawPointer] = []
        defer { owned.forEach { free($0) } }
        func cstr(_ s: String?) -> UnsafePointer<CChar>? {
            guard let s, let p = strdup(s) else { return nil }
            owned.append(UnsafeMutableRawPointer(p))
            return UnsafePointer(p)
        }
        func bytes(_ b: [UInt8]) -> (UnsafePointer<UInt8>, Int) {
            // PEM must be NUL-terminated with the NUL counted; DER is passed as is.
            var data = b
            let isPEM = b.starts(with: Array("-----".utf8)) || b.contains(Array("-----BEGIN".utf8))
            if isPEM && data.last != 0 { data.append(0) }
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(data.count, 1))
            p.initialize(from: data, count: data.count)
            owned.append(UnsafeMutableRawPointer(p))
            return (UnsafePointer(p), data.count)
        }
        var cfg = mote_tls_config_t()
        switch s.trustRoots {
        case .file(let f)?: cfg.ca_file = cstr(f)
        case .data(let d)?: (cfg.ca_data, cfg.ca_len) = bytes(d)
        case nil: break
        }
        cfg.ca_path = cstr(s.caPath)
        cfg.use_os_certs = s.useSystemTrustStore
        switch s.certificate {
        case .file(let f)?: cfg.cert_file = cstr(f)
        case .data(let d)?: (cfg.cert_data, cfg.cert_len) = bytes(d)
        case nil: break
        }
        switch s.privateKey {
        case .file(let f)?: cfg.key.file = cstr(f)
        case .data(let d)?: (cfg.key.data, cfg.key.len) = bytes(d)
        case nil: break
        }
        cfg.key.password = cstr(s.privateKeyPassword)
        cfg.server_name = cstr(s.serverName)
        cfg.bind_address = cstr(localAddress) // (copied by mote_tls_new)
        cfg.tls_version = cstr(s.version)
        cfg.ciphers = cstr(s.ciphers)
        cfg.insecure = s.insecure
        cfg.session_resumption = s.sessionResumption
        cfg.read_wait_ms = 1
        let alpnList = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: s.alpn.count + 1)
        owned.append(UnsafeMutableRawPointer(alpnList))
        for (i, p) in s.alpn.enumerated() { alpnList[i] = cstr(p) }
        alpnList[s.alpn.count] = nil
        if !s.alpn.isEmpty { cfg.alpn = UnsafePointer(alpnList) }

        var err = MOTE_OK
        guard let t = mote_tls_new(&cfg, &err) else {
            throw .tls(MoteCoreError(code: err.rawValue), detail: "out of memory")
        }
        if err != MOTE_OK {
            let detail = tlsDetail(t)
            mote_tls_free(t)
            throw MQTTError.fromCore(err.rawValue, detail: detail)
        }
        return t
    }
}
