//! Reading the fields of `/proc` files that more than one part of sockspec looks at (a process's
//! capabilities, its state and parent, its scheduling), parsed in one place.

/// The value of `key:` in the text of a `/proc/…/status` file, trimmed.
pub(crate) fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name == key).then(|| value.trim())
    })
}

/// The fields of the text of a `/proc/…/stat` file from the third on (stat(5) numbers them from
/// 1): those after the command name, which is in parentheses and may contain anything, spaces
/// and parentheses included, so they follow its last `)`.
pub(crate) fn stat_fields_after_name(stat: &str) -> Option<Vec<&str>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_field_is_found_by_its_whole_name() {
        let status = "Name:\tsh\nCapEffX:\t1\nCapEff:\t0000000000000000\n";
        assert_eq!(status_field(status, "CapEff"), Some("0000000000000000"));
        assert_eq!(status_field(status, "Uid"), None);
    }

    #[test]
    fn stat_fields_start_after_a_command_name_holding_parentheses() {
        let stat = "42 (a) b (c)) S 7 42 42 0";
        assert_eq!(
            stat_fields_after_name(stat).unwrap(),
            ["S", "7", "42", "42", "0"]
        );
    }
}
