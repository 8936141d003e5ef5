import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// mosquitto started by the tests on free loopback ports (plain, and TLS with required client
/// certificates when asked), optionally with persistence so it can be killed and restarted.
/// mosquitto runs as root here and drops to user `mosquitto`: its directory is world-writable.
final class Broker: @unchecked Sendable {
    // @unchecked: `process` is only touched by the test that owns the broker, from one task at a time.
    let port: Int
    let tlsPort: Int?
    let directory: String
    private var process: Process?
    private let logPath: String

    init(persistence: Bool = false, tls: PKI? = nil, extra: [String] = []) throws {
        var template = Array("/tmp/mote-swift-broker-XXXXXX".utf8CString)
        guard let dir = mkdtemp(&template) else { throw BrokerError.setup("mkdtemp") }
        directory = String(cString: dir)
        chmod(directory, 0o777)
        port = Self.freePort()
        tlsPort = tls != nil ? Self.freePort() : nil
        logPath = directory + "/mosquitto.log"
        var lines = ["allow_anonymous true", "log_dest stderr", "log_type error", "log_type warning",
                     "max_queued_messages 100000"]
        lines += extra.isEmpty ? ["max_inflight_messages 0"] : extra
        lines += ["listener \(port) 127.0.0.1"]
        if persistence {
            lines += ["persistence true", "persistence_location \(directory)/",
                      "autosave_interval 1", "autosave_on_changes true"]
        }
        if let tls, let tlsPort {
            lines += ["listener \(tlsPort) 127.0.0.1", "cafile \(tls.path("ca.crt"))",
                      "certfile \(tls.path("server.crt"))", "keyfile \(tls.path("server.key"))",
                      "require_certificate true"]
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        chmod(directory + "/mosquitto.conf", 0o644)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.mosquittoPath)
        p.arguments = ["-c", directory + "/mosquitto.conf"]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: logPath)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        process = p
        // For Tests/stage-50-swift.sh to clean up after a crashed test process.
        try? "\(p.processIdentifier)\n".write(toFile: directory + "/broker.pid", atomically: true, encoding: .utf8)
        for port in [port] + (tlsPort.map { [$0] } ?? []) {
            guard Self.waitForPort(port, timeout: 10) else {
                throw BrokerError.setup("mosquitto did not listen on \(port): \(log)")
            }
        }
    }

    /// SIGKILL: a crash; persistence keeps what was autosaved.
    func kill() {
        guard let p = process else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// SIGSTOP: connections stay open but nothing is answered (kill() still ends it).
    func pause() {
        guard let p = process else { return }
        Glibc.kill(p.processIdentifier, SIGSTOP)
    }

    /// SIGCONT: a paused broker goes on.
    func resume() {
        guard let p = process else { return }
        Glibc.kill(p.processIdentifier, SIGCONT)
    }

    /// Also SIGKILL: a child of Foundation's Process inherits libdispatch's blocked signal
    /// mask, so mosquitto never sees SIGTERM.
    func stop() {
        kill()
    }

    func restart() throws {
        kill()
        try start()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    static var mosquittoPath: String {
        for p in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]
        where FileManager.default.isExecutableFile(atPath: p) { return p }
        return "/usr/sbin/mosquitto"
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    static func waitForPort(_ port: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let r = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if r == 0 { return true }
            usleep(50_000)
        }
        return false
    }
}

enum BrokerError: Error {
    case setup(String)
}

/// The test PKI from toolchain/pki.sh (generated once per machine into a temp folder).
struct PKI: Sendable {
    let directory: String

    /// Generated once per test process (pki.sh is idempotent, but not safe to run twice at once).
    static let shared: Result<PKI, BrokerError> = Result { try make() }.mapError { _ in BrokerError.setup("pki.sh failed") }

    static func make() throws -> PKI {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = NSTemporaryDirectory() + "mote-swift-pki"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [root.appendingPathComponent("toolchain/pki.sh").path, dir]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BrokerError.setup("pki.sh failed") }
        chmod(dir, 0o755)
        return PKI(directory: dir)
    }

    func path(_ name: String) -> String { directory + "/" + name }
}
