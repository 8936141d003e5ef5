import Foundation
import Mote
#if canImport(Glibc)
import Glibc
#endif

/// A minimal MQTT 3.1.1/5 broker for one client at a time on a loopback port: it answers
/// CONNECT (no session; v5: assigns a client identifier when told to), PINGREQ and UNSUBSCRIBE itself, reports what the client sends, and
/// answers SUBSCRIBEs and PUBLISHes (PUBACK) and sends PUBLISHes (QoS 0) only when the test
/// says so.
///
/// `@unchecked Sendable`: the mutable fields (`clientFD`, `version`, `stopped`, `events`,
/// `waiter`, `pingCount`, `connectIDs`, `assignedID` and the others after `lock`) are only
/// touched with `lock` held (an NSLock, which the thread sanitizer understands); the client
/// descriptor is closed only by the broker's thread, under the lock.
final class ScriptedBroker: @unchecked Sendable {
    enum Event: Equatable, Sendable {
        case connected
        case subscribe(packetID: UInt16, filter: String, qos: UInt8)
        case unsubscribe(filter: String)
        /// A PUBLISH (packet id 0 at QoS 0).
        case publish(packetID: UInt16, topic: String, qos: UInt8)
        case closed
    }

    struct Subscribe {
        let packetID: UInt16
        let filter: String
        let qos: UInt8
    }

    let port: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var clientFD: Int32 = -1
    private var version: UInt8 = 5
    private var stopped = false
    private var events: [Event] = []
    private var waiter: CheckedContinuation<Event, any Error>?
    private var pingCount = 0
    private var sessionPresent = false
    private var holdUnsubacks = false
    private var heldUnsubscribes: [(UInt8, UInt8)] = []
    private var connectIDs: [String] = []
    private var assignedID: String?
    private let finished = DispatchSemaphore(value: 0)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrokerError.setup("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0, listen(fd, 4) == 0 else {
            close(fd)
            throw BrokerError.setup("bind/listen")
        }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listenFD = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        let thread = Thread { [self] in self.serve() }
        thread.name = "scripted-broker"
        thread.start()
    }

    /// Stop serving and wait for the broker's thread to end.
    func stop() {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        guard !already else { return }
        finished.wait()
        close(listenFD)
    }

    // MARK: For the test

    /// The next thing the client did (PINGREQs are not reported).
    func next() async throws -> Event {
        try await withCheckedThrowingContinuation { c in
            lock.lock()
            if events.isEmpty {
                waiter = c
                lock.unlock()
            } else {
                let e = events.removeFirst()
                lock.unlock()
                c.resume(returning: e)
            }
        }
    }

    /// The next event, which must be a SUBSCRIBE.
    func nextSubscribe() async throws -> Subscribe {
        let e = try await next()
        guard case .subscribe(let id, let filter, let qos) = e else {
            throw BrokerError.setup("expected a SUBSCRIBE, got \(e)")
        }
        return Subscribe(packetID: id, filter: filter, qos: qos)
    }

    /// Answer the SUBSCRIBE `packetID` with one reason code (granted QoS or failure).
    func suback(_ packetID: UInt16, _ code: UInt8) {
        write { v5 in
            v5 ? [0x90, 4, UInt8(packetID >> 8), UInt8(packetID & 0xFF), 0, code]
               : [0x90, 3, UInt8(packetID >> 8), UInt8(packetID & 0xFF), code]
        }
    }

    /// The next event, which must be a PUBLISH.
    func nextPublish() async throws -> (packetID: UInt16, topic: String, qos: UInt8) {
        let e = try await next()
        guard case .publish(let id, let topic, let qos) = e else {
            throw BrokerError.setup("expected a PUBLISH, got \(e)")
        }
        return (id, topic, qos)
    }

    /// Acknowledge the QoS 1 PUBLISH `packetID` (success).
    func puback(_ packetID: UInt16) {
        write { _ in [0x40, 2, UInt8(packetID >> 8), UInt8(packetID & 0xFF)] }
    }

    /// PINGREQs answered so far.
    var pings: Int {
        lock.lock()
        defer { lock.unlock() }
        return pingCount
    }

    /// Send a QoS 0 PUBLISH (short topic and payload: one-byte remaining length).
    func publish(topic: String, payload: String) {
        write { v5 in
            let t = Array(topic.utf8)
            var body: [UInt8] = [UInt8(t.count >> 8), UInt8(t.count & 0xFF)] + t
            if v5 { body.append(0) }
            body += Array(payload.utf8)
            precondition(body.count < 128)
            return [0x30, UInt8(body.count)] + body
        }
    }

    /// Close the client's connection (the broker's thread reports `.closed`).
    func dropClient() {
        lock.lock()
        if clientFD >= 0 { shutdown(clientFD, Int32(SHUT_RDWR)) }
        lock.unlock()
    }

    private func write(_ packet: (Bool) -> [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        guard clientFD >= 0 else { return }
        let bytes = packet(version == 5)
        _ = bytes.withUnsafeBytes { send(clientFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private func report(_ e: Event) {
        lock.lock()
        if let w = waiter {
            waiter = nil
            lock.unlock()
            w.resume(returning: e)
        } else {
            events.append(e)
            lock.unlock()
        }
    }

    // MARK: The broker's thread

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    /// Poll with a short tick so that `stop()` is noticed without closing a descriptor
    /// another call may be blocked on.
    private func readable(_ fd: Int32) -> Bool? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !isStopped {
            let r = poll(&p, 1, 50)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return nil }
        }
        return nil
    }

    private func serve() {
        defer { finished.signal() }
        while readable(listenFD) != nil {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            lock.lock()
            clientFD = fd
            lock.unlock()
            session(fd)
            lock.lock()
            clientFD = -1
            close(fd)
            lock.unlock()
            report(.closed)
        }
    }

    /// Read packets until the connection ends (or the broker stops).
    private func session(_ fd: Int32) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while readable(fd) != nil {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            buffer += chunk[0..<n]
            while let (type, body, used) = Self.packet(in: buffer) {
                buffer.removeFirst(used)
                if !handle(type: type, body: body) { return }
            }
        }
    }

    /// One whole packet at the start of `buffer`: its first byte, its body, its length.
    private static func packet(in buffer: [UInt8]) -> (UInt8, [UInt8], Int)? {
        var length = 0
        var shift = 0
        var i = 1
        while true {
            guard i < buffer.count else { return nil }
            length |= Int(buffer[i] & 0x7F) << shift
            shift += 7
            i += 1
            if buffer[i - 1] & 0x80 == 0 { break }
        }
        guard buffer.count >= i + length else { return nil }
        return (buffer[0], Array(buffer[i..<i + length]), i + length)
    }

    /// A variable byte integer at `at`: its value, and the index after it.
    private static func varint(_ b: [UInt8], _ at: Int) -> (Int, Int) {
        var value = 0
        var shift = 0
        var i = at
        while i < b.count {
            value |= Int(b[i] & 0x7F) << shift
            shift += 7
            i += 1
            if b[i - 1] & 0x80 == 0 { break }
        }
        return (value, i)
    }

    private static func string(_ b: [UInt8], _ at: Int) -> (String, Int) {
        let n = Int(b[at]) << 8 | Int(b[at + 1])
        return (String(decoding: b[at + 2..<at + 2 + n], as: UTF8.self), at + 2 + n)
    }

    /// false: the connection ends (DISCONNECT).
    private func handle(type: UInt8, body: [UInt8]) -> Bool {
        switch type >> 4 {
        case 1: // CONNECT: protocol name, level (4 = 3.1.1, 5 = 5), flags, keep-alive, v5
                // properties, client identifier
            let level = body[6]
            var at = 10
            if level == 5 { let (n, after) = Self.varint(body, at); at = after + n }
            let (clientID, _) = Self.string(body, at)
            lock.lock()
            version = level
            connectIDs.append(clientID)
            let assign = clientID.isEmpty && level == 5 ? assignedID : nil
            lock.unlock()
            let present: UInt8 = resumesSession ? 1 : 0
            write { v5 in
                guard v5 else { return [0x20, 2, present, 0] }
                guard let assign else { return [0x20, 3, present, 0, 0] }
                // Assigned Client Identifier (0x12), a UTF-8 string property.
                let id = Array(assign.utf8)
                let props: [UInt8] = [0x12, UInt8(id.count >> 8), UInt8(id.count & 0xFF)] + id
                precondition(props.count < 128)
                return [0x20, UInt8(3 + props.count), present, 0, UInt8(props.count)] + props
            }
            report(.connected)
        case 8: // SUBSCRIBE: packet id, v5 properties, one filter and its options
            let id = UInt16(body[0]) << 8 | UInt16(body[1])
            var at = 2
            if isV5 { let (n, after) = Self.varint(body, at); at = after + n }
            let (filter, after) = Self.string(body, at)
            report(.subscribe(packetID: id, filter: filter, qos: body[after] & 3))
        case 10: // UNSUBSCRIBE: answered at once, unless `ignoresUnsubscribes`
            var at = 2
            if isV5 { let (n, after) = Self.varint(body, at); at = after + n }
            let (filter, _) = Self.string(body, at)
            lock.lock()
            let hold = holdUnsubacks
            if hold { heldUnsubscribes.append((body[0], body[1])) }
            lock.unlock()
            if !hold { write { v5 in v5 ? [0xB0, 4, body[0], body[1], 0, 0] : [0xB0, 2, body[0], body[1]] } }
            report(.unsubscribe(filter: filter))
        case 3: // PUBLISH: topic, packet id (QoS 1/2), v5 properties, payload
            let qos = (type >> 1) & 3
            let (topic, after) = Self.string(body, 0)
            let id = qos > 0 ? UInt16(body[after]) << 8 | UInt16(body[after + 1]) : 0
            report(.publish(packetID: id, topic: topic, qos: qos))
        case 12: // PINGREQ
            write { _ in [0xD0, 0] }
            lock.lock()
            pingCount += 1
            lock.unlock()
        case 14: // DISCONNECT
            return false
        default:
            break
        }
        return true
    }

    /// UNSUBSCRIBEs are left unanswered (until `answerUnsubscribes()`).
    var ignoresUnsubscribes: Bool {
        get {
            lock.lock()
            defer { lock.unlock() }
            return holdUnsubacks
        }
        set {
            lock.lock()
            holdUnsubacks = newValue
            lock.unlock()
        }
    }

    /// Answer (successfully) every UNSUBSCRIBE left unanswered so far.
    func answerUnsubscribes() {
        lock.lock()
        let held = heldUnsubscribes
        heldUnsubscribes.removeAll()
        lock.unlock()
        for (hi, lo) in held {
            write { v5 in v5 ? [0xB0, 4, hi, lo, 0, 0] : [0xB0, 2, hi, lo] }
        }
    }

    /// CONNACK says the session is present (the broker keeps nothing; the client is told so).
    var resumesSession: Bool {
        get {
            lock.lock()
            defer { lock.unlock() }
            return sessionPresent
        }
        set {
            lock.lock()
            sessionPresent = newValue
            lock.unlock()
        }
    }

    /// v5: the identifier CONNACK assigns to a client that connects with an empty one (nil:
    /// none is assigned, the empty one is accepted as it is).
    var assignsClientID: String? {
        get {
            lock.lock()
            defer { lock.unlock() }
            return assignedID
        }
        set {
            lock.lock()
            assignedID = newValue
            lock.unlock()
        }
    }

    /// The client identifier of every CONNECT so far, in order.
    var connectedClientIDs: [String] {
        lock.lock()
        defer { lock.unlock() }
        return connectIDs
    }

    private var isV5: Bool {
        lock.lock()
        defer { lock.unlock() }
        return version == 5
    }
}

/// A flag set once by one task and read by another.
/// `@unchecked Sendable`: `value` is only touched with `lock` held.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

extension ScriptedBroker {
    /// A client of this broker with the settings the tests against it vary (keep-alive 30 s
    /// unless given; reconnect off, or after 50 ms).
    func client(_ name: String, _ version: MQTTProtocolVersion = .v5, ackTimeout: Duration? = .seconds(30),
                keepAlive: Duration = .seconds(30), maximumInflight: Int = 64,
                reconnect: Bool = false) -> MQTTClient {
        var c = MQTTConfiguration(host: "127.0.0.1", port: port, clientID: T.id(name), protocolVersion: version)
        c.keepAlive = keepAlive
        c.ackTimeout = ackTimeout
        c.maximumInflight = maximumInflight
        c.reconnect = reconnect ? MQTTReconnectPolicy(initialDelay: .milliseconds(50)) : .disabled
        return MQTTClient(configuration: c)
    }
}
