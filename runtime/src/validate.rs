//! Deploy-time validation: every rule a contract module must satisfy before it is compiled.
//!
//! Validation runs once, when a module is deployed, and is the runtime's first line of defence: a
//! module that passes can be compiled, linked against the host ABI and instantiated without
//! surprises, and every resource it declares is within the [`Limits`]. Each rejection names the
//! rule broken and the item that broke it, so a contract author can fix the module.
//!
//! Alongside the verdict, validation measures what the instrumentation pass needs: each function's
//! type and its frame cost in stack slots (fixed overhead + parameters + locals + the peak height
//! of its operand stack, as computed by wasmparser's own function validator).

use crate::{engine::FEATURES, schedule::Limits};
use std::collections::BTreeMap;
use wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator,
};

/// Slots charged per call for the return address, frame pointer and saved registers, on top of a
/// frame's parameters, locals and operand stack.
pub const FRAME_OVERHEAD_SLOTS: u32 = 16;

/// Export names beginning with this are reserved for the runtime's own instrumentation.
pub const RESERVED_EXPORT_PREFIX: &str = "__vellum";

/// The linear memory a contract must export.
pub const MEMORY_EXPORT: &str = "memory";

/// The entry point every contract must export: it runs once, when the contract is deployed.
pub const INSTANTIATE_EXPORT: &str = "instantiate";

/// Why a module was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The module is larger than the code size limit.
    #[error("module is {size} bytes; the limit is {max}")]
    CodeTooLarge {
        /// Size of the rejected module.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not a valid WebAssembly module for Vellum's feature set.
    #[error("invalid WebAssembly at byte {offset}: {message}")]
    Malformed {
        /// Byte offset of the problem.
        offset: usize,
        /// wasmparser's description.
        message: String,
    },
    /// The module imports something other than a Vellum host function.
    #[error("import {module}::{name} is not part of the Vellum host ABI (only functions of module `vellum` may be imported)")]
    ForbiddenImport {
        /// Import module name.
        module: String,
        /// Import field name.
        name: String,
    },
    /// A host function is imported with the wrong signature.
    #[error("import vellum::{name} has type {found}; the ABI defines {expected}")]
    ImportSignature {
        /// Host function name.
        name: String,
        /// Signature the module declared.
        found: String,
        /// Signature the ABI defines.
        expected: String,
    },
    /// The module has a start function, which would run code at instantiation outside any entry
    /// point's accounting.
    #[error(
        "start function (function {function}) is not allowed: put initialisation in `instantiate`"
    )]
    StartFunction {
        /// The start function's index.
        function: u32,
    },
    /// A required export is missing or has the wrong kind.
    #[error("required export `{name}` is missing or is not a {kind}")]
    MissingExport {
        /// The export name.
        name: &'static str,
        /// The expected kind.
        kind: &'static str,
    },
    /// An exported function is not an entry point of type `[] -> []`.
    #[error("exported function `{name}` has type {found}; entry points take and return nothing (data moves through the host ABI)")]
    EntryPointSignature {
        /// Export name.
        name: String,
        /// Its type.
        found: String,
    },
    /// An export uses a name reserved for the runtime.
    #[error("export `{name}` uses the reserved prefix `{RESERVED_EXPORT_PREFIX}`")]
    ReservedExport {
        /// Export name.
        name: String,
    },
    /// A count or size is above its limit.
    #[error("{what} is {found}; the limit is {max}")]
    LimitExceeded {
        /// What was counted, e.g. "functions" or "locals of function 3".
        what: String,
        /// The count found.
        found: u64,
        /// The limit.
        max: u64,
    },
}

/// What validation learned about a module, for instrumentation and execution.
#[derive(Clone, Debug)]
pub struct ModuleInfo {
    /// Number of imported functions (they come first in the function index space).
    pub imported_functions: u32,
    /// The type index of every function, imported and defined, by function index.
    pub function_types: Vec<u32>,
    /// Frame cost in stack slots of every function by function index (0 for imports).
    pub function_costs: Vec<u32>,
    /// The module's function types, by type index (`None` for non-function types).
    pub types: Vec<Option<FuncType>>,
    /// Number of globals, imported and defined.
    pub globals: u32,
    /// The indirect-call charge for each type index (see [`ModuleInfo::indirect_cost`]).
    pub indirect_costs: Vec<u32>,
    /// Exported entry points (functions of type `[] -> []`) with their frame cost, which the
    /// executor charges before calling in.
    pub entry_points: BTreeMap<String, u32>,
    /// Whether the module carries the `vellum:reentrant` custom section: it accepts
    /// cross-contract calls while it is already on the call stack.
    pub reentrant: bool,
}

impl ModuleInfo {
    /// The stack slots charged for an indirect call through `type_index`: the largest frame of any
    /// function whose type is structurally equal, since the target is only known at run time.
    pub fn indirect_cost(&self, type_index: u32) -> u32 {
        self.indirect_costs
            .get(type_index as usize)
            .copied()
            .unwrap_or(0)
    }

    /// Computed once per module: a per-call scan would make instrumentation quadratic.
    fn compute_indirect_costs(&mut self) {
        let mut largest: BTreeMap<&FuncType, u32> = BTreeMap::new();
        for (ty, cost) in self.function_types.iter().zip(&self.function_costs) {
            if let Some(Some(func_type)) = self.types.get(*ty as usize) {
                let entry = largest.entry(func_type).or_default();
                *entry = (*entry).max(*cost);
            }
        }
        self.indirect_costs = self
            .types
            .iter()
            .map(|ty| {
                ty.as_ref()
                    .and_then(|t| largest.get(t))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
    }
}

fn signature(ty: &FuncType) -> String {
    format!("{:?} -> {:?}", ty.params(), ty.results())
}

fn check_limit(what: impl Into<String>, found: u64, max: u64) -> Result<(), ValidationError> {
    if found > max {
        return Err(ValidationError::LimitExceeded {
            what: what.into(),
            found,
            max,
        });
    }
    Ok(())
}

fn malformed(error: wasmparser::BinaryReaderError) -> ValidationError {
    ValidationError::Malformed {
        offset: error.offset(),
        message: one_line(error.message()),
    }
}

/// `message` on one line: some of wasmparser's messages embed a multi-line debug dump of the
/// bytes they expected (`expected=[\n    0x0,\n ...]`), which a receipt or a terminal shows
/// as `expected=[0x0, 0x61, 0x73, 0x6d]`.
fn one_line(message: &str) -> String {
    message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("[ ", "[")
        .replace(", ]", "]")
}

/// Validate `wasm` against Vellum's rules and `limits`.
pub fn validate(wasm: &[u8], limits: &Limits) -> Result<ModuleInfo, ValidationError> {
    if wasm.len() > limits.code_size_bytes_max {
        return Err(ValidationError::CodeTooLarge {
            size: wasm.len(),
            max: limits.code_size_bytes_max,
        });
    }
    let mut validator = Validator::new_with_features(FEATURES);
    let mut info = ModuleInfo {
        imported_functions: 0,
        function_types: Vec::new(),
        function_costs: Vec::new(),
        types: Vec::new(),
        globals: 0,
        indirect_costs: Vec::new(),
        entry_points: BTreeMap::new(),
        reentrant: false,
    };
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let mut has_memory = false;
    let mut allocations = Default::default();

    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(malformed)?;
        let valid = validator.payload(&payload).map_err(malformed)?;
        match &payload {
            Payload::TypeSection(reader) => {
                check_limit(
                    "types",
                    u64::from(reader.count()),
                    u64::from(limits.types_max),
                )?;
                for group in reader.clone() {
                    for sub in group.map_err(malformed)?.into_types() {
                        info.types.push(match sub.composite_type.inner {
                            CompositeInnerType::Func(ty) => Some(ty),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.clone().into_imports() {
                    let import = import.map_err(malformed)?;
                    let TypeRef::Func(type_index) = import.ty else {
                        return Err(forbidden(import.module, import.name));
                    };
                    if import.module != vellum_abi::MODULE {
                        return Err(forbidden(import.module, import.name));
                    }
                    let Some(expected) = vellum_abi::host_function(import.name).map(func_type)
                    else {
                        return Err(forbidden(import.module, import.name));
                    };
                    // A schedule without calls (v1) has ABI v1's imports only.
                    if import.name == "call" && limits.call_depth_max == 0 {
                        return Err(forbidden(import.module, import.name));
                    }
                    let found = info
                        .types
                        .get(type_index as usize)
                        .cloned()
                        .flatten()
                        .ok_or_else(|| forbidden(import.module, import.name))?;
                    if found != expected {
                        return Err(ValidationError::ImportSignature {
                            name: import.name.to_string(),
                            found: signature(&found),
                            expected: signature(&expected),
                        });
                    }
                    info.imported_functions += 1;
                    info.function_types.push(type_index);
                    info.function_costs.push(0);
                }
            }
            Payload::FunctionSection(reader) => {
                let total = u64::from(info.imported_functions) + u64::from(reader.count());
                check_limit("functions", total, u64::from(limits.functions_max))?;
                for type_index in reader.clone() {
                    info.function_types.push(type_index.map_err(malformed)?);
                }
            }
            Payload::TableSection(reader) => {
                check_limit(
                    "tables",
                    u64::from(reader.count()),
                    u64::from(limits.tables_max),
                )?;
                for table in reader.clone() {
                    let ty = table.map_err(malformed)?.ty;
                    check_limit(
                        "initial table elements",
                        ty.initial,
                        limits.table_elements_max,
                    )?;
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader.clone() {
                    let ty = memory.map_err(malformed)?;
                    has_memory = true;
                    check_limit("initial memory pages", ty.initial, limits.memory_pages_max)?;
                }
            }
            Payload::GlobalSection(reader) => {
                info.globals += reader.count();
                check_limit(
                    "globals",
                    u64::from(info.globals),
                    u64::from(limits.globals_max),
                )?;
            }
            Payload::ExportSection(reader) => {
                check_limit(
                    "exports",
                    u64::from(reader.count()),
                    u64::from(limits.exports_max),
                )?;
                for export in reader.clone() {
                    let export = export.map_err(malformed)?;
                    if export.name.starts_with(RESERVED_EXPORT_PREFIX) {
                        return Err(ValidationError::ReservedExport {
                            name: export.name.to_string(),
                        });
                    }
                    exports.push((export.name.to_string(), export.kind, export.index));
                }
            }
            Payload::StartSection { func, .. } => {
                return Err(ValidationError::StartFunction { function: *func });
            }
            Payload::ElementSection(reader) => {
                check_limit(
                    "element segments",
                    u64::from(reader.count()),
                    u64::from(limits.element_segments_max),
                )?;
            }
            Payload::DataSection(reader) => {
                check_limit(
                    "data segments",
                    u64::from(reader.count()),
                    u64::from(limits.data_segments_max),
                )?;
            }
            Payload::CodeSectionEntry(body) => {
                let wasmparser::ValidPayload::Func(func, _) = valid else {
                    continue;
                };
                let index = func.index;
                let body_size = body.range().len();
                check_limit(
                    format!("body bytes of function {index}"),
                    body_size as u64,
                    limits.function_body_bytes_max as u64,
                )?;
                let mut func = func.into_validator(allocations);
                let mut locals = body.get_binary_reader();
                func.read_locals(&mut locals).map_err(malformed)?;
                check_limit(
                    format!("locals of function {index}"),
                    u64::from(func.len_locals()),
                    u64::from(limits.function_locals_max),
                )?;
                let mut operators = body.get_operators_reader().map_err(malformed)?;
                let mut peak = 0;
                while !operators.eof() {
                    let offset = operators.original_position();
                    let op = operators.read().map_err(malformed)?;
                    func.op(offset, &op).map_err(malformed)?;
                    peak = peak.max(func.operand_stack_height());
                }
                operators.finish().map_err(malformed)?;
                let cost = FRAME_OVERHEAD_SLOTS
                    .saturating_add(func.len_locals())
                    .saturating_add(peak);
                info.function_costs.push(cost);
                allocations = func.into_allocations();
            }
            Payload::CustomSection(reader) if reader.name() == vellum_abi::REENTRANT_SECTION => {
                info.reentrant = true;
            }
            Payload::End(_) => break,
            _ => {}
        }
    }

    // A declared maximum above the limits is accepted: growth is capped at run time, where
    // `memory.grow` past the limit returns -1 as the wasm spec allows.
    let memory_export = exports
        .iter()
        .any(|(name, kind, _)| name == MEMORY_EXPORT && *kind == ExternalKind::Memory);
    if !has_memory || !memory_export {
        return Err(ValidationError::MissingExport {
            name: MEMORY_EXPORT,
            kind: "memory",
        });
    }
    for (name, kind, index) in &exports {
        if *kind != ExternalKind::Func {
            continue;
        }
        let ty = info
            .function_types
            .get(*index as usize)
            .and_then(|ty| info.types.get(*ty as usize).cloned().flatten());
        match ty {
            Some(ty) if ty.params().is_empty() && ty.results().is_empty() => {
                let cost = info
                    .function_costs
                    .get(*index as usize)
                    .copied()
                    .unwrap_or(0);
                info.entry_points.insert(name.clone(), cost);
            }
            Some(ty) => {
                return Err(ValidationError::EntryPointSignature {
                    name: name.clone(),
                    found: signature(&ty),
                })
            }
            None => {
                return Err(ValidationError::EntryPointSignature {
                    name: name.clone(),
                    found: "unknown".into(),
                })
            }
        }
    }
    if !info.entry_points.contains_key(INSTANTIATE_EXPORT) {
        return Err(ValidationError::MissingExport {
            name: INSTANTIATE_EXPORT,
            kind: "function of type [] -> []",
        });
    }
    info.compute_indirect_costs();
    Ok(info)
}

fn forbidden(module: &str, name: &str) -> ValidationError {
    ValidationError::ForbiddenImport {
        module: module.to_string(),
        name: name.to_string(),
    }
}

/// The wasm signature of an ABI host function.
fn func_type((_, params, results): &vellum_abi::HostFunction) -> FuncType {
    let value = |ty: &vellum_abi::ValType| match ty {
        vellum_abi::ValType::I32 => ValType::I32,
        vellum_abi::ValType::I64 => ValType::I64,
    };
    FuncType::new(params.iter().map(value), results.iter().map(value))
}
