//! LIBSVM / SVMlight sparse data files: one sample per line,
//! `label index:value index:value …` with 1-based, strictly increasing feature indices;
//! blank lines and `#` comments are skipped. Used by the constrained logistic regression and
//! the bilevel problems.

use crate::error::ReadError;
use sprs::{CsMat, TriMat};
use std::path::Path;

/// A labelled sparse data set.
#[derive(Debug, Clone)]
pub struct LibsvmData {
    /// One label per sample, as written in the file.
    pub labels: Vec<f64>,
    /// Features, `samples × dim` (CSR).
    pub features: CsMat<f64>,
}

impl LibsvmData {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Number of features (the largest index seen, or the `dim` asked for).
    pub fn dim(&self) -> usize {
        self.features.cols()
    }
    /// The features as a dense row-major `samples × d` matrix (`d ≥ dim`: padded with zero
    /// columns), after checking its size against the memory budget.
    pub fn to_dense(&self, d: usize) -> Result<Vec<f64>, crate::error::ProblemError> {
        let d = d.max(self.dim());
        let len = crate::limits::checked_size("dense features", self.len(), d)?;
        crate::limits::check_alloc("dense features", len, 8)?;
        let mut x = vec![0.0; len];
        for (k, row) in self.features.outer_iterator().enumerate() {
            for (j, v) in row.iter() {
                x[k * d + j] = *v;
            }
        }
        Ok(x)
    }
    /// Labels mapped to `±1` for binary classification: the larger of the two distinct label
    /// values becomes `+1`. Fails (naming the values) when there are more than two.
    pub fn binary_labels(&self) -> Result<Vec<f64>, String> {
        let mut values: Vec<f64> = Vec::new();
        for l in &self.labels {
            if !values.contains(l) {
                values.push(*l);
                if values.len() > 2 {
                    return Err(format!(
                        "more than two label values ({values:?}): not a binary data set"
                    ));
                }
            }
        }
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Ok(self
            .labels
            .iter()
            .map(|l| if *l == hi { 1.0 } else { -1.0 })
            .collect())
    }
}

/// Parse LIBSVM text; `dim` forces the number of features (an index above it is an error),
/// `None` takes the largest index. `name` is used in error messages.
pub fn parse_libsvm(text: &str, name: &Path, dim: Option<usize>) -> Result<LibsvmData, ReadError> {
    let mut labels = Vec::new();
    let mut entries: Vec<(usize, usize, f64)> = Vec::new();
    let mut max_index = 0usize;
    for (ln, raw) in text.lines().enumerate() {
        let line_no = ln + 1;
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut tokens = line.split_whitespace();
        let label_text = tokens.next().unwrap_or("");
        let label: f64 = label_text.parse().map_err(|_| {
            ReadError::parse(
                name,
                line_no,
                format!("expected a numeric label, found '{label_text}'"),
            )
        })?;
        if !label.is_finite() {
            return Err(ReadError::parse(name, line_no, "label is not finite"));
        }
        let row = labels.len();
        let mut last = 0usize;
        for tok in tokens {
            let Some((i, v)) = tok.split_once(':') else {
                return Err(ReadError::parse(
                    name,
                    line_no,
                    format!("expected index:value, found '{tok}'"),
                ));
            };
            let index: usize = i.parse().map_err(|_| {
                ReadError::parse(
                    name,
                    line_no,
                    format!("expected a feature index, found '{i}'"),
                )
            })?;
            if index == 0 {
                return Err(ReadError::parse(
                    name,
                    line_no,
                    "feature indices start at 1",
                ));
            }
            if index <= last {
                return Err(ReadError::parse(
                    name,
                    line_no,
                    format!("feature indices must increase ({index} after {last})"),
                ));
            }
            if let Some(d) = dim
                && index > d
            {
                return Err(ReadError::parse(
                    name,
                    line_no,
                    format!("feature index {index} above the dimension {d}"),
                ));
            }
            let value: f64 = v.parse().map_err(|_| {
                ReadError::parse(
                    name,
                    line_no,
                    format!("expected a number after '{i}:', found '{v}'"),
                )
            })?;
            if !value.is_finite() {
                return Err(ReadError::parse(
                    name,
                    line_no,
                    format!("feature {index} is not finite"),
                ));
            }
            last = index;
            if index > max_index {
                // The models keep dense vectors of the feature dimension.
                crate::limits::check_alloc("the feature vectors", index, 64).map_err(|e| {
                    ReadError::parse(name, line_no, format!("feature {index}: {e}"))
                })?;
            }
            max_index = max_index.max(index);
            if value != 0.0 {
                entries.push((row, index - 1, value));
            }
        }
        labels.push(label);
    }
    let cols = dim.unwrap_or(max_index);
    let mut tri = TriMat::new((labels.len(), cols));
    for (r, c, v) in entries {
        tri.add_triplet(r, c, v);
    }
    Ok(LibsvmData {
        labels,
        features: tri.to_csr(),
    })
}

/// Read a LIBSVM file (see [`parse_libsvm`]).
pub fn read_libsvm(path: impl AsRef<Path>, dim: Option<usize>) -> Result<LibsvmData, ReadError> {
    let path = path.as_ref();
    let text = crate::io::read_text(path)?;
    parse_libsvm(&text, path, dim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_samples_and_labels() {
        let d = parse_libsvm(
            "# comment\n+1 1:0.5 3:-2\n\n-1 2:1e-3 # trailing\n+1\n",
            Path::new("t.svm"),
            None,
        )
        .unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.dim(), 3);
        assert_eq!(d.labels, vec![1.0, -1.0, 1.0]);
        assert_eq!(d.features.get(0, 2), Some(&-2.0));
        assert_eq!(d.features.get(1, 1), Some(&1e-3));
        assert_eq!(d.features.nnz(), 3);
        assert_eq!(d.binary_labels().unwrap(), vec![1.0, -1.0, 1.0]);
        let z = parse_libsvm("0 1:1\n1 1:2\n", Path::new("t"), Some(4)).unwrap();
        assert_eq!(z.dim(), 4);
        assert_eq!(z.binary_labels().unwrap(), vec![-1.0, 1.0]);
        let multi = parse_libsvm("1 1:1\n2 1:1\n3 1:1\n", Path::new("t"), None).unwrap();
        assert!(multi.binary_labels().unwrap_err().contains("more than two"));
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            (
                "1 1:1\nx 1:1\n",
                "t.svm:2: expected a numeric label, found 'x'",
            ),
            ("1 1:1 2\n", "t.svm:1: expected index:value, found '2'"),
            ("1 0:1\n", "t.svm:1: feature indices start at 1"),
            (
                "1 3:1 2:1\n",
                "t.svm:1: feature indices must increase (2 after 3)",
            ),
            (
                "1 2:abc\n",
                "t.svm:1: expected a number after '2:', found 'abc'",
            ),
            ("1 2:inf\n", "t.svm:1: feature 2 is not finite"),
            ("1 9:1\n", "t.svm:1: feature index 9 above the dimension 4"),
        ];
        for (text, want) in cases {
            let e = parse_libsvm(text, Path::new("t.svm"), Some(4))
                .unwrap_err()
                .to_string();
            assert_eq!(e, want);
        }
    }
}
