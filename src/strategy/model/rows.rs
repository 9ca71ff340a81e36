//! Rows for a model from CSV text (for `mako model predict` and the tests, not the hot
//! path): a header, then one row per line; columns are matched to the model's features by
//! name when every feature has a column of its name, otherwise by position when there are
//! exactly as many columns as features; an empty field is a missing value (NaN).

use super::Model;

/// The rows of `text`, each with one value per model feature in the model's order. The
/// error names the line (1-based) and column.
pub fn read(model: &Model, text: &str) -> Result<Vec<Vec<f64>>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("the CSV is empty (it needs a header)")?;
    let header: Vec<&str> = header
        .split(',')
        .map(|h| h.trim().trim_matches('"'))
        .collect();
    let features = model.features();
    let by_name: Option<Vec<usize>> = features
        .iter()
        .map(|f| header.iter().position(|h| h == f))
        .collect();
    let columns: Vec<usize> = match by_name {
        Some(cols) => cols,
        None if header.len() == features.len() => (0..features.len()).collect(),
        None => {
            let absent: Vec<&str> = features
                .iter()
                .filter(|f| !header.contains(&f.as_str()))
                .map(String::as_str)
                .take(5)
                .collect();
            return Err(format!(
                "wrong feature count: the model has {} features, the CSV has {} columns, and \
                 its header does not name every feature (absent: {})",
                features.len(),
                header.len(),
                absent.join(", ")
            ));
        }
    };
    let mut rows = Vec::new();
    for (i, line) in lines {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            return Err(format!(
                "line {}: {} fields, the header has {}",
                i + 1,
                fields.len(),
                header.len()
            ));
        }
        let row = columns
            .iter()
            .map(|&c| {
                let f = fields[c].trim().trim_matches('"');
                if f.is_empty() {
                    Ok(f64::NAN)
                } else {
                    f.parse::<f64>().map_err(|_| {
                        format!(
                            "line {}, column {:?}: {f:?} is not a number",
                            i + 1,
                            header[c]
                        )
                    })
                }
            })
            .collect::<Result<Vec<f64>, String>>()?;
        rows.push(row);
    }
    Ok(rows)
}
