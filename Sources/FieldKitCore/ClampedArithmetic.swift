/// Arithmetic on numbers that came from outside (a wire, a file, an option): held at the ends
/// of the range instead of trapping. Use it where a clamp is the right answer (a time far in the
/// future stays "far in the future"); where it is not, check the range and refuse.
extension Int64 {
    /// `self + other`, held at `.max` or `.min`.
    public func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, held at `.max` or `.min`.
    public func subtractingClamped(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }
}
