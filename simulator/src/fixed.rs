//! Binance's decimal strings: every price and quantity is printed with 8 decimals
//! (`"0.01634790"`), so amounts are kept as integers of 1e-8 and printed exactly.

/// Units of 1e-8 in one whole unit.
pub const ONE: i64 = 100_000_000;

/// `10^-decimals` expressed in units of 1e-8 (`decimals` is at most 8).
pub fn unit_of(decimals: u32) -> i64 {
    10_i64.pow(8_u32.saturating_sub(decimals))
}

/// Prints an amount of 1e-8 units the way Binance does.
pub fn format(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let one = ONE as u128;
    format!("{sign}{}.{:08}", abs / one, abs % one)
}

/// Prints a count of ticks (or lots) of `10^-decimals` each.
pub fn format_steps(steps: i64, decimals: u32) -> String {
    format(i128::from(steps) * i128::from(unit_of(decimals)))
}

/// Prints a float with 8 decimals, for derived amounts such as quote volume.
pub fn format_f64(value: f64) -> String {
    format!("{value:.8}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_binance() {
        assert_eq!(format(1_634_790), "0.01634790");
        assert_eq!(format(0), "0.00000000");
        assert_eq!(format(-150_000_000), "-1.50000000");
        assert_eq!(format_steps(6_012_345, 2), "60123.45000000");
        assert_eq!(format_steps(1, 5), "0.00001000");
        assert_eq!(format_steps(7, 0), "7.00000000");
        assert_eq!(format_f64(2.5), "2.50000000");
    }
}
