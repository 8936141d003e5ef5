import Foundation
import Mote
import Synchronization
import Testing

@Suite(.serialized)
struct ReconnectTests {
    static func persistentConfig(_ broker: Broker, _ name: String) -> MQTTConfiguration {
        var cfg = T.config(broker, name)
        cfg.clientID = name
        cfg.cleanStart = false
        cfg.sessionExpiryInterval = .max
        cfg.keepAlive = .seconds(5)
        cfg.connectTimeout = .seconds(2)
        cfg.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(500))
        cfg.offlinePublishing = .queue(limit: 100_000)
        return cfg
    }

    /// The broker is SIGKILLed and restarted (with persistence) during a stream of QoS 1
    /// messages from a persistent-session client. Afterwards every message the client was
    /// responsible for has arrived; duplicates are only the few QoS 1 allows around the crash.
    ///
    /// mosquitto (2.0) writes a PUBACK as soon as it has handled the PUBLISH and saves its
    /// database afterwards, in the same loop turn (lib/packet_mosq.c writes queued packets
    /// at once; src/loop.c saves after handling the sockets). A SIGKILL between the two loses
    /// a message it has already acknowledged, and no client can send it again. So a message
    /// may be missing only if it was among the last acknowledgements before the kill (one
    /// per loop turn is at risk; the last 20 are allowed); every other one, above all every
    /// message still unacknowledged at the crash, must arrive. The killed broker's last
    /// acknowledgements can reach the publishing tasks after the kill: every one recorded
    /// before the restart is its (no broker runs in between), so the window ends there.
    @Test func brokerKilledAndRestartedDuringQoS1Stream() async throws {
        // 20 in flight per client at the broker bounds how much it resends after the restart.
        let broker = try Broker(persistence: true, extra: ["max_inflight_messages 20"])
        let suffix = UInt32.random(in: 0...UInt32.max)
        try await T.within(120) {
            let subscriber = MQTTClient(configuration: Self.persistentConfig(broker, "ksub-\(suffix)"))
            let publisher = MQTTClient(configuration: Self.persistentConfig(broker, "kpub-\(suffix)"))
            let events = publisher.events
            let sawReconnect = Task { () -> Bool in
                var lost = false
                for await e in events {
                    if case .disconnected = e { lost = true }
                    if case .connected = e, lost { return true }
                }
                return false
            }
            try await subscriber.connect()
            let sub = try await subscriber.subscribe(to: "k/stream", qos: .atLeastOnce, bufferingPolicy: .dropNewest(limit: 100_000))
            try await publisher.connect()
            try await Task.sleep(for: .milliseconds(300)) // let the subscription reach the persistence file

            let n = 3000
            let acked = Counter(), distinct = Counter(), order = AckOrder()
            let receiver = Task { () -> (counts: [Int: Int], duplicates: Int, markedDuplicates: Int) in
                var counts: [Int: Int] = [:]
                var duplicates = 0, marked = 0
                for try await m in sub {
                    let v = Int(m.payloadString)!
                    counts[v, default: 0] += 1
                    if counts[v] == 1 { distinct.add() }
                    if counts[v]! > 1 {
                        duplicates += 1
                        if m.isDuplicate { marked += 1 }
                    }
                    if counts.count == n { break }
                }
                return (counts, duplicates, marked)
            }
            let publishing = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for k in 0..<8 {
                        group.addTask {
                            for i in stride(from: k, to: n, by: 8) {
                                try await publisher.publish(to: "k/stream", string: String(i), qos: .atLeastOnce)
                                order.record(i)
                                acked.add()
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(await T.eventually(30) { acked.value >= n / 3 })
            broker.kill()
            let ackedAtKill = order.count // acknowledged by the killed broker: positions below
            try await Task.sleep(for: .milliseconds(300))
            let ackedByKilled = order.count // the killed broker's acknowledgements, late ones included
            try broker.start()
            try await publishing.value
            // Every message was acknowledged; if some never arrive, say which instead of
            // waiting for the test's time limit.
            if !(await T.eventually(30) { distinct.value == n }) { receiver.cancel() }
            let result = try await receiver.value
            let missing = (0..<n).filter { result.counts[$0] == nil }
            let brokerLost = missing.filter { i in order.position(i).map { $0 < ackedByKilled && $0 >= ackedAtKill - 20 } ?? false }
            let clientLost = missing.filter { !brokerLost.contains($0) }
            #expect(clientLost.isEmpty, "\(clientLost.count) never arrived: \(clientLost.prefix(20)), ack positions \(clientLost.prefix(20).map { order.position($0) ?? -1 }) (kill after \(ackedAtKill), restart after \(ackedByKilled))")
            if !brokerLost.isEmpty {
                print("kill/restart: \(brokerLost) acknowledged by the broker just before the kill and lost with it (not saved yet)")
            }
            // QoS 1 repeats, two kinds. Our resends after the reconnect reach the subscriber as
            // new messages (the broker does not pass DUP on): at most the publisher's 64
            // in flight. The broker's own resends carry DUP: whatever it delivered after its
            // last save is sent again, which depends on how far the subscriber was behind at
            // the kill (1 to 149 seen on 2 cores, under TSan), not on the client.
            #expect(result.duplicates - result.markedDuplicates <= 64 + 16,
                    "duplicates \(result.duplicates), marked DUP \(result.markedDuplicates)")
            #expect(await sawReconnect.value)
            print("kill/restart: \(n) messages, \(result.duplicates) duplicates (\(result.markedDuplicates) with DUP set)")
            try await publisher.disconnect()
            try await subscriber.disconnect()
        }
    }

    /// Reconnect events, resubscribe after a new session, offline queue and fail-fast.
    @Test func reconnectEventsAndOfflinePublishing() async throws {
        let broker = try Broker()
        try await T.within(60) {
            var cfg = T.config(broker, "rc")
            cfg.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .milliseconds(300))
            cfg.offlinePublishing = .queue(limit: 10)
            let client = MQTTClient(configuration: cfg)
            let events = client.events
            try await client.connect()
            let sub = try await client.subscribe(to: "rc/#", qos: .atLeastOnce)
            broker.kill()
            #expect(await T.eventually { !client.isConnected })
            // Queued while offline, sent after the reconnect.
            let queued = Task { try await client.publish(to: "rc/offline", string: "later", qos: .atLeastOnce) }
            try await Task.sleep(for: .milliseconds(200))
            try broker.start()
            try await queued.value
            var it = sub.makeAsyncIterator()
            let m = try #require(try await it.next())
            #expect(m.topic == "rc/offline") // resubscribed on the new (clean) session
            var seen: [String] = []
            for await e in events {
                switch e {
                case .connected: seen.append("connected")
                case .disconnected: seen.append("disconnected")
                case .reconnecting: seen.append("reconnecting")
                case .closed: seen.append("closed")
                }
                if seen.filter({ $0 == "connected" }).count == 2 { break }
            }
            #expect(seen.first == "connected")
            #expect(seen.contains("disconnected"))
            #expect(seen.contains("reconnecting"))
            try await client.disconnect()

            var ff = T.config(broker, "ff")
            ff.offlinePublishing = .failFast
            ff.reconnect = MQTTReconnectPolicy(initialDelay: .seconds(5))
            let fast = MQTTClient(configuration: ff)
            try await fast.connect()
            broker.kill()
            #expect(await T.eventually { !fast.isConnected })
            await #expect(throws: MQTTError.notConnected) {
                try await fast.publish(to: "ff/x", string: "now", qos: .atLeastOnce)
            }
            try await fast.disconnect()
        }
    }

    @Test func backoffGrowsWithJitterAndCap() {
        let p = MQTTReconnectPolicy(initialDelay: .milliseconds(100), maximumDelay: .seconds(2), multiplier: 2, jitter: 0.2)
        for attempt in 0..<10 {
            let base = min(2000.0, 100.0 * pow(2, Double(attempt)))
            let d = p.delay(forAttempt: attempt)
            let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            #expect(ms >= base * 0.8 - 1 && ms <= base * 1.2 + 1)
        }
    }
}

/// The order in which publishes were acknowledged (position per message).
/// `@unchecked Sendable` is safe: the dictionary is only touched with `lock` held.
final class AckOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var positions: [Int: Int] = [:]

    func record(_ message: Int) {
        lock.lock()
        positions[message] = positions.count
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return positions.count
    }

    func position(_ message: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return positions[message]
    }
}

final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
