//! Labelled CSV for training and evaluation: `id,user,title,time,detail,label` as in
//! shared/data/README.md (only `detail` and `label` are required; the text of a row is
//! `title` + `detail`). Rows that cannot be used are kept aside with their line numbers so the
//! operator sees exactly which lines of the file to fix.

use crate::classifier::Example;
use std::io::Read;
use std::path::Path;

/// A row that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line of the file where the record starts (the header is line 1).
    pub line: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// The usable rows of a file and the rejected ones.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Labelled texts, in file order.
    pub rows: Vec<Example>,
    /// The `id` column of each row (empty when the file has none or the cell is empty).
    pub ids: Vec<String>,
    /// Rows left out, in file order.
    pub rejected: Vec<BadRow>,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Opening or reading failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The header lacks a required column.
    #[error("the header has no `{0}` column (expected id,user,title,time,detail,label)")]
    MissingColumn(&'static str),
    /// The CSV itself is unreadable (e.g. the header).
    #[error("unreadable CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Reads labelled CSV from `reader`. Rows with the wrong number of fields, invalid UTF-8, an
/// empty label or an empty text go to [`Dataset::rejected`].
pub fn read_csv(reader: impl Read) -> Result<Dataset, DataError> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = csv.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let detail = col("detail").ok_or(DataError::MissingColumn("detail"))?;
    let label = col("label").ok_or(DataError::MissingColumn("label"))?;
    let title = col("title");
    let id = col("id");
    let width = headers.len();
    let mut out = Dataset::default();
    let mut record = csv::StringRecord::new();
    loop {
        let line_before = csv.position().line();
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_before, |p| p.line());
                match e.kind() {
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. } => {
                        out.rejected.push(BadRow {
                            line,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                    _ => return Err(e.into()),
                }
            }
        }
        let line = record.position().map_or(line_before, |p| p.line());
        if record.len() != width {
            out.rejected.push(BadRow {
                line,
                reason: format!("{} fields, the header has {width}", record.len()),
            });
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let lab = get(Some(label));
        let (t, d) = (get(title), get(Some(detail)));
        let text = match (t.is_empty(), d.is_empty()) {
            (true, true) => {
                out.rejected.push(BadRow {
                    line,
                    reason: "empty title and detail".into(),
                });
                continue;
            }
            (true, false) => d.to_string(),
            (false, true) => t.to_string(),
            (false, false) => format!("{t} {d}"),
        };
        if lab.is_empty() {
            out.rejected.push(BadRow {
                line,
                reason: "empty label".into(),
            });
            continue;
        }
        out.ids.push(get(id).to_string());
        out.rows.push(Example {
            text,
            label: lab.to_string(),
        });
    }
    Ok(out)
}

/// Reads labelled CSV from a file (see [`read_csv`]).
pub fn load_csv(path: &Path) -> Result<Dataset, DataError> {
    let file = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_csv(std::io::BufReader::new(file)).map_err(|e| match e {
        DataError::Csv(c) if c.is_io_error() => DataError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(c.to_string()),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_reports_bad_lines() {
        let csv = "id,user,title,time,detail,label\n\
                   1,u1,停车难,2020-01-01,小区停车位不足,城乡建设\n\
                   ,,,,只有正文,交通运输\n\
                   2,u2,少一列,2020-01-02,缺标签\n\
                   3,u3,,,,教育文体\n\
                   4,u4,没有标签,2020-01-03,内容,\n\
                   5,u5,\"多行\n标题\",2020-01-04,正文,卫生计生\n";
        let d = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(d.rows.len(), 3);
        assert_eq!(d.rows[0].text, "停车难 小区停车位不足");
        assert_eq!(d.rows[0].label, "城乡建设");
        assert_eq!(d.rows[1].text, "只有正文");
        assert_eq!(d.ids, vec!["1", "", "5"]);
        assert_eq!(d.rows[2].text, "多行\n标题 正文");
        let lines: Vec<u64> = d.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6], "{:?}", d.rejected);
        assert!(d.rejected[1].reason.contains("empty title"));
        assert!(d.rejected[2].reason.contains("empty label"));
    }

    #[test]
    fn invalid_utf8_is_a_bad_row_not_a_failure() {
        let mut bytes = b"detail,label\n\xff\xfe,x\nok,y\n".to_vec();
        bytes.extend_from_slice("另一行,z\n".as_bytes());
        let d = read_csv(&bytes[..]).unwrap();
        assert_eq!(d.rows.len(), 2);
        assert_eq!(d.rejected.len(), 1);
        assert_eq!(d.rejected[0].line, 2);
    }

    #[test]
    fn missing_columns_are_named() {
        assert!(matches!(
            read_csv("a,b\n1,2\n".as_bytes()),
            Err(DataError::MissingColumn("detail"))
        ));
        assert!(matches!(
            read_csv("detail\nx\n".as_bytes()),
            Err(DataError::MissingColumn("label"))
        ));
        assert!(matches!(
            load_csv(Path::new("/nonexistent.csv")),
            Err(DataError::Io { .. })
        ));
    }

    #[test]
    fn byte_order_mark_is_ignored() {
        let d = read_csv("\u{feff}detail,label\n正文,类\n".as_bytes()).unwrap();
        assert_eq!(d.rows.len(), 1);
    }
}
