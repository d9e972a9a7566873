//! `generated/ts-client`: placeholder while the emitter is written.
use crate::lower::Model;
use crate::{CodegenError, GeneratedFile, Templates};

pub(crate) fn generate(_model: &Model<'_>, _templates: &Templates) -> Result<Vec<GeneratedFile>, CodegenError> {
    Ok(Vec::new())
}
