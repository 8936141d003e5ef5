import Foundation
import Logging
import Mote
import Synchronization
import Testing

@Suite(.serialized)
struct MoreTests {
    /// The broker's receive maximum (10) is below our in-flight table (64): publishes wait for
    /// acks instead of failing, and all complete.
    @Test func brokerReceiveMaximumBelowInflightTable() async throws {
        let broker = try Broker(extra: ["max_inflight_messages 10"])
        try await T.within(60) {
            let client = MQTTClient(configuration: T.config(broker, "rxmax"))
            let info = try await client.connect()
            #expect(info.receiveMaximum == 10)
            let done = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<50 {
                    group.addTask {
                        for i in 0..<40 {
                            try await client.publish(to: "rx/\(t)", string: String(i), qos: .atLeastOnce)
                            done.add()
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(done.value == 2000)
            try await client.disconnect()
        }
    }

    /// An in-flight window larger than the C client can serve with packet ids (65,535 ids,
    /// some kept for SUBSCRIBE/UNSUBSCRIBE) is capped, not a failure: the client works.
    @Test func oversizeInflightWindowIsCapped() async throws {
        let broker = try Broker()
        try await T.within(30) {
            var cfg = T.config(broker, "bigwindow")
            cfg.maximumInflight = 100_000
            let client = MQTTClient(configuration: cfg)
            try await client.connect()
            let sub = try await client.subscribe(to: "big/window", qos: .atLeastOnce)
            try await client.publish(to: "big/window", string: "ok", qos: .atLeastOnce)
            for try await m in sub {
                #expect(m.payloadString == "ok")
                break
            }
            try await client.disconnect()
        }
    }

    /// A refused CONNECT surfaces the broker's reason code (v5 0x87, v3.1.1 return code 5).
    @Test(arguments: ClientTests.versions)
    func refusedConnectCarriesReasonCode(version: MQTTProtocolVersion) async throws {
        let broker = try Broker(extra: ["max_inflight_messages 0", "allow_anonymous false"])
        try await T.within(20) {
            var cfg = T.config(broker, "refused", version)
            cfg.reconnect = .disabled
            let client = MQTTClient(configuration: cfg)
            do {
                try await client.connect()
                Issue.record("anonymous connect accepted")
            } catch let error as MQTTError {
                guard case .connectionRefused(let code, let reason) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(code == (version == .v5 ? 0x87 : 5))
                #expect(!reason.isEmpty)
            }
        }
    }

    /// The same client connects again right after disconnect() returns (a new connection
    /// thread takes over the C state); a connect that fails can be retried too.
    @Test func reconnectSameClientAfterDisconnect() async throws {
        let broker = try Broker()
        try await T.within(30) {
            let client = MQTTClient(configuration: T.config(broker, "again"))
            for round in 0..<5 {
                try await client.connect()
                let sub = try await client.subscribe(to: "again/\(round)", qos: .atLeastOnce)
                try await client.publish(to: "again/\(round)", string: "r\(round)", qos: .atLeastOnce)
                var it = sub.makeAsyncIterator()
                #expect(try await it.next()?.payloadString == "r\(round)")
                try await client.disconnect()
                #expect(!client.isConnected)
            }
            await #expect(throws: MQTTError.self) { try await client.publish(to: "again/x", string: "closed") }
        }
    }

    /// More subscriptions at once than the C client keeps SUBSCRIBE requests awaiting their
    /// SUBACK (MOTE_MQTT_MAX_PENDING_SUBS): the rest wait for acks to free slots, and all
    /// are granted; so are as many unsubscribes.
    @Test(arguments: ClientTests.versions)
    func manySubscriptionsAtOnce(version: MQTTProtocolVersion) async throws {
        let broker = try Broker()
        try await T.within(30) {
            let client = MQTTClient(configuration: T.config(broker, "many", version))
            try await client.connect()
            let n = 40
            let subs = try await withThrowingTaskGroup(of: (Int, MQTTSubscription).self) { group in
                for i in 0..<n {
                    group.addTask { (i, try await client.subscribe(to: "many/\(i)", qos: .atLeastOnce)) }
                }
                var all: [Int: MQTTSubscription] = [:]
                for try await (i, s) in group { all[i] = s }
                return all
            }
            #expect(subs.count == n)
            for i in 0..<n { try await client.publish(to: "many/\(i)", string: "m\(i)", qos: .atLeastOnce) }
            for i in 0..<n {
                var it = subs[i]!.makeAsyncIterator()
                #expect(try await it.next()?.payloadString == "m\(i)")
            }
            try await client.disconnect()
        }
    }

    /// QoS 0 messages handed over just before disconnect() are still written, in order.
    @Test func qos0BurstThenDisconnect() async throws {
        let broker = try Broker()
        try await T.within(60) {
            let subscriber = MQTTClient(configuration: T.config(broker, "burst-sub"))
            try await subscriber.connect()
            let sub = try await subscriber.subscribe(to: "burst", qos: .atMostOnce, bufferingPolicy: .dropNewest(limit: 50_000))
            let n = 20_000
            let receiver = Task { () -> [Int] in
                var got: [Int] = []
                for try await m in sub {
                    got.append(Int(m.payloadString)!)
                    if got.count == n { break }
                }
                return got
            }
            let publisher = MQTTClient(configuration: T.config(broker, "burst-pub"))
            try await publisher.connect()
            for i in 0..<n { try await publisher.publish(to: "burst", string: String(i)) }
            try await publisher.disconnect()
            let got = try await receiver.value
            #expect(got == Array(0..<n))
            try await subscriber.disconnect()
        }
    }

    /// QoS 0 publishes skip the topic check while a topic repeats: a bad topic after a good
    /// one (the empty topic too) still throws in the call, and good ones keep arriving.
    @Test func qos0TopicCheckedWhileConnected() async throws {
        let broker = try Broker()
        try await T.within(30) {
            let subscriber = MQTTClient(configuration: T.config(broker, "check-sub"))
            try await subscriber.connect()
            let sub = try await subscriber.subscribe(to: "check/#", qos: .atMostOnce)
            let client = MQTTClient(configuration: T.config(broker, "check-pub"))
            try await client.connect()
            for bad in ["", "check/#", "check/+/x", "check/a", "check/a\u{0}b"] {
                if bad == "check/a" {
                    try await client.publish(to: bad, string: "1")
                    continue
                }
                await #expect(throws: MQTTError.self) { try await client.publish(to: bad, string: "bad") }
            }
            try await client.publish(to: "check/a", string: "2")
            var got: [String] = []
            for try await m in sub {
                got.append(m.payloadString)
                if got.count == 2 { break }
            }
            #expect(got == ["1", "2"])
            try await client.disconnect()
            try await subscriber.disconnect()
        }
    }

    /// The C core's packet trace reaches the swift-log logger at trace level.
    @Test func coreTraceReachesLogger() async throws {
        let broker = try Broker()
        let lines = CapturedLines()
        var traceLogger = Logger(label: "mote.test") { _ in CapturingHandler(lines: lines) }
        traceLogger.logLevel = .trace
        let logger = traceLogger
        try await T.within(20) {
            let client = MQTTClient(configuration: T.config(broker, "trace"), logger: logger)
            try await client.connect()
            try await client.publish(to: "trace/x", string: "1", qos: .atLeastOnce)
            try await client.disconnect()
        }
        let all = lines.all
        #expect(all.contains { $0.hasPrefix("sent CONNECT") })
        #expect(all.contains { $0.hasPrefix("received CONNACK") })
        #expect(all.contains { $0.hasPrefix("sent PUBLISH") })
        #expect(all.contains { $0.hasPrefix("received PUBACK") })
    }

    /// A will message is published when a client's connection ends without DISCONNECT.
    @Test func willMessage() async throws {
        let broker = try Broker()
        try await T.within(30) {
            let watcher = MQTTClient(configuration: T.config(broker, "watch"))
            try await watcher.connect()
            let wills = try await watcher.subscribe(to: "will/#", qos: .atLeastOnce)
            var cfg = T.config(broker, "dying")
            cfg.keepAlive = .seconds(1)
            cfg.reconnect = .disabled
            cfg.will = MQTTWill(topic: "will/dying", payload: Array("gone".utf8), qos: .atLeastOnce)
            let dying = MQTTClient(configuration: cfg)
            try await dying.connect()
            // Another connection with the same client id takes the session over: the broker
            // closes the first connection without a DISCONNECT from it, so its will goes out.
            var thief = cfg
            thief.will = nil
            let taker = MQTTClient(configuration: thief)
            try await taker.connect()
            var it = wills.makeAsyncIterator()
            let m = try #require(try await it.next())
            #expect(m.topic == "will/dying")
            #expect(m.payloadString == "gone")
            try await taker.disconnect()
            try await dying.disconnect()
            try await watcher.disconnect()
        }
    }
}

final class CapturedLines: @unchecked Sendable {
    // @unchecked: `lines` is only touched with `lock` held (NSLock, which TSan understands).
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
}

struct CapturingHandler: LogHandler {
    let lines: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.append(event.message.description)
    }
}
