#if canImport(Glibc)
    import Glibc
#endif
import Foundation
import Synchronization

/// A minimal HTTP/1.1 endpoint for `/metrics` and `/healthz` (GET only, one request per connection), on a
/// dedicated thread. Enough for Prometheus scrapes and health probes; nothing else is served.
public final class HTTPEndpoint: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String
        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    private let socketFD: Int32
    /// The port actually bound (useful with port 0).
    public let port: Int
    private let stopped = Mutex(false)
    private let handler: @Sendable (String) -> Response

    /// Binds `address:port` and starts serving.
    ///
    /// - Parameter handler: Maps a request path to a response.
    /// - Throws: An error naming the address if the socket cannot be bound (port in use).
    public init(address: String, port: Int, handler: @escaping @Sendable (String) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw EndpointError(message: "socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &addr.sin_addr) == 1 else {
            close(fd)
            throw EndpointError(message: "invalid IPv4 address '\(address)'")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw EndpointError(message: "cannot listen on \(address):\(port): \(String(cString: strerror(code)))")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.socketFD = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.handler = handler
        let thread = Thread { [self] in self.serve() }
        thread.name = "vigil-metrics"
        thread.start()
    }

    /// Stops serving and closes the socket.
    public func stop() {
        let wasStopped = stopped.withLock { s -> Bool in
            defer { s = true }
            return s
        }
        if !wasStopped { shutdown(socketFD, Int32(SHUT_RDWR)) }
    }

    deinit { close(socketFD) }

    private func serve() {
        while !stopped.withLock({ $0 }) {
            var pfd = pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 200)
            if ready <= 0 { continue }
            let client = accept(socketFD, nil, nil)
            if client < 0 { continue }
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        var received = 0
        while received < buffer.count {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress! + received, $0.count - received, 0) }
            if n <= 0 { break }
            received += n
            if buffer[0..<received].contains(UInt8(ascii: "\n")) { break }
        }
        let request = String(decoding: buffer[0..<received], as: UTF8.self)
        let parts = request.split(separator: " ", maxSplits: 2)
        let response: Response
        if parts.count >= 2, parts[0] == "GET" {
            response = handler(String(parts[1].split(separator: "?").first ?? ""))
        } else {
            response = Response(status: 405, body: "only GET\n")
        }
        let reason = [200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"][response.status] ?? "OK"
        let body = Array(response.body.utf8)
        let head =
            "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }
}

public struct EndpointError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
