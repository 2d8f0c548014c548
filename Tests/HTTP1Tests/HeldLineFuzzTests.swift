// Property (review11): a held last chunk read in pieces, resumed where each ask stopped, ends as it does in one piece.
import XCTest
@testable import HTTP1

final class HeldLineFuzzTests: XCTestCase {
    /// How a chunked body fed to a decoder ended once all its bytes were in.
    enum Outcome: Equatable {
        /// The body ended after this many bytes.
        case complete(Int)
        /// The body was refused (the error, as text).
        case refused(String)
        /// More is needed: this many bytes moved on; the decoder holds its last chunk's line or not.
        case open(moved: Int, holding: Bool)
    }

    /// A deterministic generator (SplitMix64), so a failure names a seed that reproduces it.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
    }

    /// Feeds `input` in pieces ending at `cuts`, as a relay does: the decoder holds the last chunk, and each ask of
    /// the held line gets all that is buffered from it on; an ordinary chunk's line moves on, the rest is decoded.
    func holding(_ input: [UInt8], cuts: [Int], limits: HTTP1Limits) -> Outcome {
        var d = BodyDecoder(framing: .chunked, limits: limits)
        d.holdsLastChunk = true
        var buffer: [UInt8] = []
        var moved = 0
        var from = 0
        for cut in cuts + [input.count] where cut >= from {
            buffer += input[from..<cut]
            from = cut
            do {
                while !buffer.isEmpty {
                    if d.isHoldingLastChunk {
                        let held = try buffer.withUnsafeBytes { (b) throws(HTTP1Error) in try d.takeHeldLine(b) }
                        switch held {
                        case .needMore:
                            break
                        case .chunk(let line):
                            moved += line
                            buffer.removeFirst(line)
                            continue
                        case .lastChunk(let n):
                            return .complete(moved + n)
                        }
                        break
                    }
                    let n = try buffer.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }
                    moved += n
                    buffer.removeFirst(n)
                    if d.isComplete { return .complete(moved) }
                    if n == 0 && !d.isHoldingLastChunk { break }
                }
            } catch {
                return .refused("\(error)")
            }
        }
        return .open(moved: moved, holding: d.isHoldingLastChunk)
    }

    /// The same bytes to a decoder that holds nothing, in one piece.
    func plain(_ input: [UInt8], limits: HTTP1Limits) -> Outcome {
        var d = BodyDecoder(framing: .chunked, limits: limits)
        do {
            let n = try input.withUnsafeBytes { (b) throws(HTTP1Error) in try d.consume(b) }
            return d.isComplete ? .complete(n) : .open(moved: n, holding: false)
        } catch {
            return .refused("\(error)")
        }
    }

    /// Whether two endings agree. Two open ones agree whatever they moved: a size line with leading zeros held
    /// because its digits past them were not in yet moves on only at its LF (`.chunk`), where read whole its bytes
    /// move as they are read; either way the same line goes out, whole, once it ends.
    func same(_ a: Outcome, _ b: Outcome) -> Bool {
        if case .open = a, case .open = b { return true }
        return a == b
    }

    /// A chunked body, valid or nearly: sizes with leading zeros and extensions, a last chunk of one or more zeros,
    /// trailer fields; then as many mutations as `mutations` (a byte replaced by one a parser cares about, inserted,
    /// removed), maybe something after the body, and sometimes cut short.
    func body(_ r: inout Rng, mutations: Int) -> [UInt8] {
        var s = ""
        for _ in 0..<r.below(3) {
            let n = 1 + r.below(12)
            s += String(repeating: "0", count: r.below(4)) + String(n, radix: 16, uppercase: r.below(2) == 0)
            if r.below(3) == 0 { s += r.pick([";a=1", " ;b", ";c=\"q\"", "\t;d"]) }
            s += "\r\n" + String(repeating: "x", count: n) + "\r\n"
        }
        s += String(repeating: "0", count: 1 + r.below(3))
        if r.below(3) == 0 { s += r.pick([";e", ";f=\"0\\r\"", " ;g=2"]) }
        s += "\r\n"
        for _ in 0..<r.below(4) { s += r.pick(["X-A: 1", "X-Long: " + String(repeating: "v", count: 30), "E:", "T: a\tb "]) + "\r\n" }
        s += "\r\n"
        if r.below(3) == 0 { s += "GET / HTTP/1.1\r\n" }
        var b = [UInt8](s.utf8)
        let interesting: [UInt8] = [13, 10, 0x30, 0x31, 0x20, 9, 0x3A, 0x3B, 0x22, 0, 0x61, 0x46, 0x7F, 0x80, 0x78, 0x2C]
        for _ in 0..<mutations where !b.isEmpty {
            let at = r.below(b.count)
            switch r.below(3) {
            case 0: b[at] = r.pick(interesting)
            case 1: b.insert(r.pick(interesting), at: at)
            default: b.remove(at: at)
            }
        }
        // Cut short: a body still open when the input ends (its held line, or its section, not all in).
        if r.below(5) == 0 && b.count > 1 { b.removeLast(1 + r.below(b.count - 1)) }
        return b
    }

    /// Should end every body the same, held and read in pieces (split in two at every offset, a byte at a time,
    /// in random pieces) as in one piece, and as a decoder that holds nothing: the same end, the same refusal, or
    /// the same bytes moved on, so a resumed scan neither misses a CRLF split across reads nor takes a bare CR or
    /// LF at a boundary, nor accepts what it refuses whole.
    func testHeldBodiesEndTheSameHoweverTheyAreSplit() {
        var limits = HTTP1Limits()
        limits.maxTrailerBytes = 48  // the limits are reached within the fuzzed sizes too
        limits.maxChunkLineBytes = 24
        var r = Rng(state: 0x7265_7631_31)
        var mismatches = 0
        var counts = (complete: 0, refused: 0, open: 0)
        for round in 0..<1_500 {
            let input = body(&r, mutations: round % 4 == 0 ? 0 : r.below(3))
            let whole = holding(input, cuts: [], limits: limits)
            switch whole {
            case .complete: counts.complete += 1
            case .refused: counts.refused += 1
            case .open: counts.open += 1
            }
            let unheld = plain(input, limits: limits)
            // A decoder that holds nothing moves the held line on as it reads it; only a body that ended or was
            // refused can be compared with it.
            if case .open = whole {} else if unheld != whole {
                mismatches += 1
                XCTFail("round \(round) \(String(decoding: input, as: UTF8.self).debugDescription): held \(whole), unheld \(unheld)")
            }
            var splittings: [[Int]] = (0...input.count).map { [$0] }
            splittings.append(Array(0...input.count))
            var random: [Int] = []
            var at = 0
            while at < input.count { at += 1 + r.below(7); random.append(min(at, input.count)) }
            splittings.append(random)
            for cuts in splittings {
                let split = holding(input, cuts: cuts, limits: limits)
                if !same(split, whole) {
                    mismatches += 1
                    if mismatches <= 10 {
                        XCTFail("round \(round) \(String(decoding: input, as: UTF8.self).debugDescription) cut at \(cuts): \(split), whole \(whole)")
                    }
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
        // The corpus reaches every ending, or the property says little.
        XCTAssertGreaterThan(counts.complete, 300)
        XCTAssertGreaterThan(counts.refused, 300)
        XCTAssertGreaterThan(counts.open, 50)
    }
}
