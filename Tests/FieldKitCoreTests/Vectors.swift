import FoundationEssentials

/// The package's root folder, found from this file's path.
let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Reads and decodes a JSON file in `Assets/vectors`.
func loadVectors<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let data = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/Assets/vectors/" + name))
    return try JSONDecoder().decode(T.self, from: data)
}

struct VT1Vectors: Decodable {
    struct Fields: Decodable {
        var kid: String
        var voucher_id: UInt64
        var trainee_ref: UInt64
        var class_id: UInt32
        var trade: UInt32
        var level: UInt8
        var valid_from: Int
        var valid_to: Int
        var flags: UInt8
    }
    struct Valid: Decodable {
        var name: String
        var fields: Fields
        var body_hex: String
        var signature_hex: String
        var text: String
    }
    struct Decodes: Decodable {
        var name: String
        var input: String
        var text: String
    }
    struct Invalid: Decodable {
        var name: String
        var input: String
        var error: String
    }
    struct BadSignature: Decodable {
        var name: String
        var text: String
    }
    struct Example: Decodable {
        var id_number: String
        var trainee_ref: UInt64
    }
    var signing_key_seed_hex: String
    var signing_public_key_base64: String
    var kid: String
    var pseudonym_secret_hex: String
    var trainee_ref_example: Example
    var valid: [Valid]
    var decodes: [Decodes]
    var invalid: [Invalid]
    var bad_signature: [BadSignature]
}

struct TrustBundleVectors: Decodable {
    var root_key_seed_hex: String
    var root_public_key_base64: String
    var root_kid: String
    var file: String
}
