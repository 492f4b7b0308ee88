import Crypto
import FieldKitCore
import FoundationEssentials

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The parsers fieldkit points at input it does not control, one harness each.
enum Harness: String, CaseIterable {
    /// VT1 voucher codes as a scanner types them, and as 100 bytes.
    case vt1
    /// A trust bundle file, as `fieldkit trust import` reads it.
    case trust
    /// An upload body or a USB transfer file, as the county reads it before storing anything.
    case wire
    /// A `.tar` of evidence bags, as `fieldkit evidence verify` reads it.
    case tar
    /// A policy file, as `--policy FILE` loads it, and a few claims worked out under it.
    case policy

    /// Feeds one input to the code under test. Refusals are fine; a trap, a crash or a broken
    /// invariant (see ``expect(_:_:)``) is what the fuzzer looks for.
    func run(_ data: [UInt8]) {
        switch self {
        case .vt1: VT1Harness.run(data)
        case .trust: TrustHarness.run(data)
        case .wire: WireHarness.run(data)
        case .tar: TarHarness.run(data)
        case .policy: PolicyHarness.run(data)
        }
    }
}

/// The keys of the test vectors (Assets/vectors): the voucher signing key (seed 0x11…) and the
/// county root key (seed 0x22…), so seeds made from the vectors verify.
enum FixedKeys {
    static let signing = key(seed: 0x11)
    static let root = key(seed: 0x22)
    /// A device key (seed 0x33…) for signed requests.
    static let device = key(seed: 0x33)

    static func key(seed: UInt8) -> Curve25519.Signing.PrivateKey {
        do {
            return try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: seed, count: 32))
        } catch {
            fputs("fieldkit-fuzz: cannot make the fixed key \(seed): \(error)\n", stderr)
            exit(70)
        }
    }
}

/// Words for errors, so message formatting runs too.
let english = Localizer(.en)

/// A value the harness itself writes down; nil is a bug in the harness, not in the input.
func fixed<T>(_ value: T?, _ what: String) -> T {
    guard let value else {
        fputs("fieldkit-fuzz: the fixed \(what) does not parse\n", stderr)
        exit(70)
    }
    return value
}
