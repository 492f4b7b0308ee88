/// A CSV field as Excel and WPS read it: quoted (quotes doubled) when it holds a comma, a quote
/// or a line break; as it is otherwise.
public func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
}
