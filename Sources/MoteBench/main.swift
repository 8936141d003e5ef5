// MoteBench: publish N messages through a broker with the Swift Mote module and report the
// rate and CPU per message. A plain main that runs the work in a task and waits on a
// semaphore: an async main crashes under valgrind (libdispatch's signal mask).
import ArgumentParser
import Foundation
import Mote

struct BenchError: Error, CustomStringConvertible {
    let description: String
}

struct MoteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mote-bench",
        abstract: "Publish N messages with the Swift Mote module and report throughput and CPU per message.")

    @Option(name: .shortAndLong, help: "Broker host.") var host = "127.0.0.1"
    @Option(name: .shortAndLong, help: "Broker port.") var port = 1883
    @Option(name: .shortAndLong, help: "QoS 0, 1 or 2.") var qos = 0
    @Option(name: .shortAndLong, help: "Messages to publish.") var count = 100_000
    @Option(name: .shortAndLong, help: "Payload bytes.") var size = 32
    @Option(help: "Concurrent publishing tasks (QoS 0: one unless given; QoS 1/2: two publishing batches, or 20 single publishes with --batch 0).") var tasks: Int?
    @Option(help: "QoS 1/2: messages per batched publish (one suspension per batch); 0 publishes them one by one.") var batch = 100
    @Option(help: "QoS 1/2: messages in flight (the C tool's --max-inflight).") var inflight = 20
    @Flag(help: "Print how messages are published for these options and exit.") var printMethod = false
    @Option(help: "Topic.") var topic = "bench/swift"
    @Flag(help: "MQTT 3.1.1 instead of 5.") var v311 = false

    func run() throws {
        guard let qos = MQTTQoS(rawValue: UInt8(clamping: self.qos)) else { throw ValidationError("QoS must be 0, 1 or 2") }
        var configuration = MQTTConfiguration(host: host, port: port, clientID: "mote-bench-\(getpid())",
                                              protocolVersion: v311 ? .v311 : .v5)
        let batch = qos == .atMostOnce ? 0 : max(self.batch, 0)
        let tasks = max(self.tasks ?? (qos == .atMostOnce ? 1 : batch > 0 ? 2 : inflight), 1)
        configuration.maximumInflight = qos == .atMostOnce ? tasks : inflight
        let method = batch > 0
            ? "batches of \(batch) from \(tasks) task\(tasks == 1 ? "" : "s"), \(inflight) in flight"
            : qos == .atMostOnce ? "single publishes from \(tasks) task\(tasks == 1 ? "" : "s")"
            : "single publishes from \(tasks) tasks, \(inflight) in flight"
        if printMethod {
            print(method)
            return
        }
        configuration.reconnect = .disabled
        let payload = [UInt8](repeating: 0x61, count: size)
        let (count, topic) = (self.count, self.topic)
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        Task {
            do {
                let client = MQTTClient(configuration: configuration)
                try await client.connect()
                let startCPU = cpuSeconds()
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for t in 0..<tasks {
                        group.addTask {
                            if batch > 0 {
                                // Task t publishes batches t, t + tasks, ... of `batch` messages.
                                let full = [MQTTOutgoingMessage](repeating: MQTTOutgoingMessage(topic: topic, payload: payload), count: batch)
                                var first = t * batch
                                while first < count {
                                    let n = min(batch, count - first)
                                    let messages = n == batch ? full : Array(full.prefix(n))
                                    for r in await client.publish(messages, qos: qos) { try r.get() }
                                    first += tasks * batch
                                }
                                return
                            }
                            var i = t
                            while i < count {
                                try await client.publish(to: topic, payload: payload, qos: qos)
                                i += tasks
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await client.disconnect()
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let cpu = cpuSeconds() - startCPU
                result.set(.success(String(format: "swift qos=%d messages=%d seconds=%.3f rate=%.0f cpu_us_per_msg=%.2f",
                                           Int(qos.rawValue), count, seconds, Double(count) / seconds, cpu / Double(count) * 1e6)
                                    + " method=" + method))
            } catch {
                result.set(.failure(BenchError(description: "\(error)")))
            }
            done.signal()
        }
        done.wait()
        print(try result.get())
    }
}

/// Hands the task's result to the waiting main thread.
final class ResultBox: @unchecked Sendable {
    // @unchecked: written once by the task before it signals the semaphore, read after the wait.
    private var value: Result<String, BenchError> = .failure(BenchError(description: "no result"))
    func set(_ r: Result<String, BenchError>) { value = r }
    func get() throws -> String { try value.get() }
}

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

MoteBench.main()
