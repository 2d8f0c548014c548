// Microbenchmark of the HTTP1 codec: ns per head parse, and a fixed-iteration mode for counting heap allocations.
import Glibc

let request = Array((
    "GET http://api.internal.example.com:8080/v1/users/12345/orders?limit=50&cursor=abcdef HTTP/1.1\r\n" +
    "Host: api.internal.example.com:8080\r\n" +
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) berth-bench/1.0\r\n" +
    "Accept: application/json, text/plain;q=0.9, */*;q=0.8\r\n" +
    "Accept-Encoding: gzip, deflate, br\r\n" +
    "Accept-Language: en-US,en;q=0.5\r\n" +
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\r\n" +
    "X-Request-Id: 7f9c2ba4-e88f-11ee-9b1d-0242ac120002\r\n" +
    "Connection: keep-alive\r\n\r\n").utf8)
let response = Array((
    "HTTP/1.1 200 OK\r\n" +
    "Date: Tue, 24 Nov 2026 01:51:42 GMT\r\n" +
    "Content-Type: application/json; charset=utf-8\r\n" +
    "Content-Length: 1234\r\n" +
    "Cache-Control: no-cache, private\r\n" +
    "X-Request-Id: 7f9c2ba4-e88f-11ee-9b1d-0242ac1200\r\n\r\n").utf8)

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1e9 + Double(ts.tv_nsec)
}

@inline(never) func parseRequests(_ p: inout RequestHeadParser, _ n: Int) -> Int {
    var sum = 0
    request.withUnsafeBytes { b in
        for _ in 0..<n {
            p.reset()
            if case .complete(let c) = try! p.parse(b) { sum &+= c }
        }
    }
    return sum
}

@inline(never) func parseResponses(_ p: inout ResponseHeadParser, _ n: Int) -> Int {
    var sum = 0
    response.withUnsafeBytes { b in
        for _ in 0..<n {
            p.reset()
            if case .complete(let c) = try! p.parse(b) { sum &+= c }
        }
    }
    return sum
}

@inline(never) func serializeRequests(_ p: RequestHeadParser, _ out: inout [UInt8], _ n: Int) -> Int {
    var sum = 0
    for _ in 0..<n {
        out.removeAll(keepingCapacity: true)
        HeadSerializer.writeForwardRequest(p.head, host: "api.internal.example.com:8080", options: ForwardOptions(), into: &out)
        sum &+= out.count
    }
    return sum
}

var req = RequestHeadParser()
var res = ResponseHeadParser()
let args = CommandLine.arguments
if args.count >= 3 && args[1] == "alloc" {
    // Fixed work for an external allocation counter (valgrind's heap summary); run.sh diffs two iteration counts.
    let n = Int(args[2])!
    _ = parseRequests(&req, n)
    _ = parseResponses(&res, n)
    exit(0)
}

let iterations = 500_000
_ = parseRequests(&req, 10_000)
_ = parseResponses(&res, 10_000)
var best = (Double.infinity, Double.infinity, Double.infinity)
var out: [UInt8] = []
out.reserveCapacity(1024)
for _ in 0..<5 {
    var t = now()
    _ = parseRequests(&req, iterations)
    best.0 = min(best.0, (now() - t) / Double(iterations))
    t = now()
    _ = parseResponses(&res, iterations)
    best.1 = min(best.1, (now() - t) / Double(iterations))
    t = now()
    _ = serializeRequests(req, &out, iterations)
    best.2 = min(best.2, (now() - t) / Double(iterations))
}
func fmt(_ v: Double) -> String { String(Int(v.rounded())) }
print("request head  (\(request.count) bytes): \(fmt(best.0)) ns/parse")
print("response head (\(response.count) bytes): \(fmt(best.1)) ns/parse")
print("forward request serialize: \(fmt(best.2)) ns/head")
print("held trailer section, 16,000 bytes dripped a byte per read: \(fmt(heldTrailerDrip(sectionBytes: 16_000) / 1e3)) us")
