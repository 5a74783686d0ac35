//! `--weights 10,50,100`: the share of traffic the new NLB gets after each step.

/// Parses and checks a weight list: each 1–100, strictly increasing, the last
/// 100 so the switch ends with every client on the new NLB.
pub fn parse(text: &str) -> Result<Vec<u8>, String> {
    let hint = "pass percentages of traffic for the new load balancer, strictly increasing and ending at 100, e.g. --weights 10,50,100";
    if text.trim().is_empty() {
        return Err(format!("--weights is empty: {hint}"));
    }
    let mut out: Vec<u8> = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        // A number too big for any integer type, or a negative one, is still
        // a number: it is out of range, not "not a whole number" (qa D-M5).
        let digits = part.strip_prefix('-').unwrap_or(part);
        let is_number = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
        let w: u8 = match part.parse::<u32>() {
            Ok(w) if (1..=100).contains(&w) => w as u8,
            _ if is_number => {
                return Err(format!(
                    "--weights {text}: {part} is out of range (each step is 1–100); {hint}"
                ));
            }
            Err(_) | Ok(_) => {
                return Err(format!(
                    "--weights {text}: \"{part}\" is not a whole number; {hint}"
                ));
            }
        };
        if let Some(&prev) = out.last()
            && w <= prev
        {
            return Err(format!(
                "--weights {text}: {w} does not increase on {prev}; {hint}"
            ));
        }
        out.push(w);
    }
    if out.last() != Some(&100) {
        return Err(format!(
            "--weights {text}: the last step must be 100, or some clients would stay on the old load balancer; {hint}"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_increasing_steps_ending_at_100() {
        assert_eq!(parse("10,50,100"), Ok(vec![10, 50, 100]));
        assert_eq!(parse("100"), Ok(vec![100]));
        assert_eq!(parse(" 1, 2 ,100"), Ok(vec![1, 2, 100]));
    }

    #[test]
    fn rejects_what_cannot_be_a_switch() {
        for (bad, why) in [
            ("0,50,100", "out of range"),
            ("10,50,101", "out of range"),
            ("50,10,100", "does not increase"),
            ("10,10,100", "does not increase"),
            ("10,50", "last step must be 100"),
            ("abc", "not a whole number"),
            ("10,,100", "not a whole number"),
            ("-5,100", "-5 is out of range"),
            ("1.5,100", "not a whole number"),
            ("", "empty"),
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
            assert!(err.contains("--weights"), "{bad}: {err}");
        }
    }

    // qa D-M5: 99999999999 overflowed the parse and was called "not a whole number".
    #[test]
    fn a_number_too_big_for_any_step_is_out_of_range() {
        for big in ["99999999999,100", "10,18446744073709551616"] {
            let err = parse(big).expect_err(big);
            assert!(
                err.contains("is out of range (each step is 1–100)"),
                "{err}"
            );
            assert!(!err.contains("whole number"), "{err}");
        }
    }
}
