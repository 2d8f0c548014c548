// Swapping two large values in line, sixteen bytes at a time, where `swap` would make three memcpy calls.

/// Swaps `a` and `b` bit for bit, in line. For the request head (204 bytes), handed from the parser to the exchange
/// per request: `swap` moves the two values through a temporary with three memcpy calls (~95 instructions), this is
/// ~55 loads and stores. Sound for the types it is used on: a Swift value that is bitwise-takable (structs of
/// arrays, strings, enums and integers; no weak reference) may be moved by copying its bytes, and a swap is two
/// such moves; nothing is retained or released either way.
@inline(__always)
func swapInPlace<T>(_ a: inout T, _ b: inout T) {
    assert(_isBitwiseTakable(T.self), "a value that is not bitwise-takable cannot be swapped by its bytes")
    let size = MemoryLayout<T>.size
    withUnsafeMutableBytes(of: &a) { x in
        withUnsafeMutableBytes(of: &b) { y in
            var k = 0
            while k &+ 16 <= size {
                let u = x.loadUnaligned(fromByteOffset: k, as: SIMD2<UInt64>.self)
                let v = y.loadUnaligned(fromByteOffset: k, as: SIMD2<UInt64>.self)
                x.storeBytes(of: v, toByteOffset: k, as: SIMD2<UInt64>.self)
                y.storeBytes(of: u, toByteOffset: k, as: SIMD2<UInt64>.self)
                k &+= 16
            }
            while k &+ 8 <= size {
                let u = x.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                x.storeBytes(of: y.loadUnaligned(fromByteOffset: k, as: UInt64.self), toByteOffset: k, as: UInt64.self)
                y.storeBytes(of: u, toByteOffset: k, as: UInt64.self)
                k &+= 8
            }
            while k < size {
                let u = x[k]
                x[k] = y[k]
                y[k] = u
                k &+= 1
            }
        }
    }
}
