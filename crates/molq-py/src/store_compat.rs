//! Argument conversion for the original molq's `JobStore` writes (see
//! `molq_core::store::compat`): a dict of job fields becomes typed values.

use molq_core::{FieldKind, FieldValue, UPDATABLE_FIELDS};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::types::extract_state;

/// A remembered allocation as Python sees it:
/// (partition, account, qos, reservation, label, last_used, use_count).
pub type AllocationRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    f64,
    i64,
);

/// `{"state": JobState.RUNNING, "exit_code": 0, ...}` as typed column values,
/// in the dict's order. A value of the wrong kind is a TypeError naming the field.
pub fn field_values(fields: &Bound<'_, PyDict>) -> PyResult<Vec<(String, FieldValue)>> {
    let mut out = Vec::with_capacity(fields.len());
    for (name, value) in fields.iter() {
        let name: String = name
            .extract()
            .map_err(|_| PyTypeError::new_err("job field names must be str"))?;
        let Some((_, kind)) = UPDATABLE_FIELDS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = UPDATABLE_FIELDS.iter().map(|(n, _)| *n).collect();
            return Err(PyValueError::new_err(format!(
                "job field {name:?} cannot be updated (updatable: {})",
                names.join(", ")
            )));
        };
        let wrong = |what: &str| {
            PyTypeError::new_err(format!(
                "job field {name} takes {what}, got {}",
                value
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".to_owned(), |n| n.to_string())
            ))
        };
        let typed = match kind {
            FieldKind::State => FieldValue::State(extract_state(&value)?),
            FieldKind::Text => FieldValue::Text(value.extract().map_err(|_| wrong("a str"))?),
            FieldKind::Real if !value.is_instance_of::<PyBool>() => {
                FieldValue::Real(value.extract().map_err(|_| wrong("a number"))?)
            }
            FieldKind::Integer if !value.is_instance_of::<PyBool>() => {
                FieldValue::Integer(value.extract().map_err(|_| wrong("an int"))?)
            }
            FieldKind::Real => return Err(wrong("a number")),
            FieldKind::Integer => return Err(wrong("an int")),
        };
        out.push((name, typed));
    }
    Ok(out)
}

pub fn allocation_row(a: molq_core::Allocation) -> AllocationRow {
    (
        a.partition,
        a.account,
        a.qos,
        a.reservation,
        a.label,
        a.last_used,
        a.use_count,
    )
}
