// OpenSSL's random generator told that the VM was restored from a snapshot: reseeded from the kernel at once.
internal import COpenSSL

/// The process's OpenSSL random generator (its primary DRBG, parent of every thread's). A VM restored from a
/// snapshot carries the DRBG state the snapshot froze: every clone of one snapshot would draw the same ClientHello
/// randoms and the same key-share private keys until OpenSSL's own reseed interval (7 minutes for the threads'
/// generators) ran out. The kernel reseeds its own generator at the restore (vmgenid, Linux 5.18+); `reseed()` pulls
/// from it with prediction resistance, and each thread's generator reseeds at its next draw, as it does whenever its
/// parent has reseeded (OpenSSL 3's reseed propagation).
package enum ProcessRandom {
    /// Reseeds the primary DRBG from the kernel now; false when OpenSSL could not (the log says so).
    @discardableResult
    package static func reseed() -> Bool {
        guard let primary = RAND_get0_primary(nil) else { return false }
        return EVP_RAND_reseed(primary, 1, nil, 0, nil, 0) == 1
    }

    /// The primary DRBG's reseed counter (it moves at each reseed), nil when OpenSSL does not say: for tests.
    package static func primaryReseeds() -> UInt32? {
        guard let primary = RAND_get0_primary(nil) else { return nil }
        var value: CUnsignedInt = 0
        let ok = withUnsafeMutablePointer(to: &value) { p in
            OSSL_DRBG_PARAM_RESEED_COUNTER.withCString { name in
                var params = [OSSL_PARAM_construct_uint(name, p), OSSL_PARAM_construct_end()]
                return EVP_RAND_CTX_get_params(primary, &params) == 1
            }
        }
        return ok ? UInt32(value) : nil
    }
}
