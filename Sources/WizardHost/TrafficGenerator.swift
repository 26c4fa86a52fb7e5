import DoctorCore
import DoctorHost
import Foundation
import Wizard

/// The test connection the port-forward flow offers: one TCP connect, UDP datagram or ping to the flow's
/// destination, started in the background while the trace listens.
final class TrafficGenerator: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: String?

    var result: String? { lock.withLock { outcome } }

    static func start(_ request: FlowRequest, afterMilliseconds delay: Int) -> TrafficGenerator {
        let generator = TrafficGenerator()
        Thread.detachNewThread {
            usleep(useconds_t(delay * 1000))
            let text = send(request)
            generator.lock.withLock { generator.outcome = text }
        }
        return generator
    }

    static func send(_ request: FlowRequest) -> String {
        guard let destination = request.destination else { return "no destination" }
        switch request.proto ?? .tcp {
        case .icmp:
            let argv = ["ping", "-c", "1", "-W", "1", destination]
            switch SystemCommandRunner().run(argv, timeout: 5) {
            case .success(let r): return "ping \(destination): " + (r.exitStatus == 0 ? "answered" : "no answer")
            case .failure(let f): return "ping: \(f.description)"
            }
        case .tcp, .udp:
            guard let port = request.destinationPort else { return "no port" }
            return connect(destination, port, tcp: request.proto != .udp)
        }
    }

    /// A non-blocking connect with a 1.5 s limit, or one UDP datagram.
    static func connect(_ address: String, _ port: UInt16, tcp: Bool) -> String {
        let v6 = Address.isIPv6(address)
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return "socket: \(HostRoot.describe(errno: errno))" }
        defer { close(fd) }
        var storage = sockaddr_storage()
        let length: socklen_t
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            inet_pton(AF_INET6, address, &a.sin6_addr)
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &a.sin_addr)
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
        let endpoint = PacketHeader.endpoint(address, port)
        if !tcp {
            let sent = withUnsafePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, "ctdoctor", 8, 0, $0, length) }
            }
            return sent < 0 ? "UDP to \(endpoint): \(HostRoot.describe(errno: errno))" : "one UDP datagram sent to \(endpoint)"
        }
        let started = withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        if started == 0 { return "TCP connect to \(endpoint): connected" }
        guard errno == EINPROGRESS else { return "TCP connect to \(endpoint): \(HostRoot.describe(errno: errno))" }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&p, 1, 1500) == 1 else { return "TCP connect to \(endpoint): no answer in 1.5 s (the SYN was dropped somewhere)" }
        var code: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &size)
        if code == 0 { return "TCP connect to \(endpoint): connected" }
        return "TCP connect to \(endpoint): \(HostRoot.describe(errno: code))"
    }
}
