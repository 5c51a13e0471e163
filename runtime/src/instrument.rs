//! Deterministic stack metering, added to every module at deploy.
//!
//! wasmtime stops runaway recursion by measuring the *native* stack, whose use per wasm frame
//! depends on the compiler version and the CPU architecture. A contract recursing close to that
//! limit could succeed on one validator and trap on another: a fork. So the runtime meters the
//! stack itself, in abstract slots that depend only on the module:
//!
//! - validation computes each function's frame cost (fixed overhead + locals + peak operand stack);
//! - this pass adds a mutable `i32` global, the slots in use, and wraps every `call f` as
//!   `used += cost(f); if used > budget { unreachable }; call f; used -= cost(f)`;
//! - a `call_indirect` is charged the largest cost of any function of the matching type.
//!
//! The entry point's own frame is charged by the executor, which sets the global to that frame's
//! cost before calling in.
//!
//! The global is exported as [`STACK_EXPORT`] so that, after an `unreachable` trap, the executor can
//! tell a budget overrun (`used > budget`) from a contract's own `unreachable`. Because accounting
//! happens at call sites, every way out of a callee (`return`, a branch to its outermost label,
//! falling off the end) is covered without rewriting the callee. The instructions added consume
//! fuel like any others, so calls cost a few more units; that cost is deterministic too.

use crate::validate::{ModuleInfo, RESERVED_EXPORT_PREFIX};
use wasm_encoder::{
    reencode::{self, Reencode},
    ConstExpr, ExportKind, ExportSection, GlobalSection, GlobalType, Instruction, SectionId,
    ValType,
};

/// Version of this pass. Compiled artifacts carry it in their name, so a change here can never
/// run against code instrumented by an older pass.
pub const INSTRUMENT_VERSION: u32 = 1;

/// The export holding the stack slots in use.
pub const STACK_EXPORT: &str = "__vellum_stack";

const _: () = assert!(STACK_EXPORT.len() > RESERVED_EXPORT_PREFIX.len());

/// Why instrumentation failed (a validated module always instruments; this is a defect guard).
#[derive(Debug, thiserror::Error)]
#[error("instrumenting the module failed: {0}")]
pub struct InstrumentError(String);

struct StackMeter<'a> {
    info: &'a ModuleInfo,
    budget: u32,
    global: u32,
    global_done: bool,
    export_done: bool,
}

impl StackMeter<'_> {
    fn stack_global(&self) -> (GlobalType, ConstExpr) {
        let ty = GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        };
        (ty, ConstExpr::i32_const(0))
    }

    fn enter(&self, function: &mut wasm_encoder::Function, cost: u32) {
        let cost = cost as i32;
        let budget = self.budget as i32;
        function.instruction(&Instruction::GlobalGet(self.global));
        function.instruction(&Instruction::I32Const(cost));
        function.instruction(&Instruction::I32Add);
        function.instruction(&Instruction::GlobalSet(self.global));
        function.instruction(&Instruction::GlobalGet(self.global));
        function.instruction(&Instruction::I32Const(budget));
        function.instruction(&Instruction::I32GtU);
        function.instruction(&Instruction::If(wasm_encoder::BlockType::Empty));
        function.instruction(&Instruction::Unreachable);
        function.instruction(&Instruction::End);
    }

    fn leave(&self, function: &mut wasm_encoder::Function, cost: u32) {
        function.instruction(&Instruction::GlobalGet(self.global));
        function.instruction(&Instruction::I32Const(cost as i32));
        function.instruction(&Instruction::I32Sub);
        function.instruction(&Instruction::GlobalSet(self.global));
    }
}

impl Reencode for StackMeter<'_> {
    type Error = InstrumentError;

    fn parse_global_section(
        &mut self,
        globals: &mut GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_global_section(self, globals, section)?;
        let (ty, init) = self.stack_global();
        globals.global(ty, &init);
        self.global_done = true;
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        reencode::utils::parse_export_section(self, exports, section)?;
        exports.export(STACK_EXPORT, ExportKind::Global, self.global);
        self.export_done = true;
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        // Sections that come after globals (and exports) in a module: if the module has no global
        // (export) section, ours goes just before the first of these.
        let after_globals = |id: SectionId| {
            matches!(
                id,
                SectionId::Export
                    | SectionId::Start
                    | SectionId::Element
                    | SectionId::DataCount
                    | SectionId::Code
                    | SectionId::Data
            )
        };
        let after_exports = |id: SectionId| after_globals(id) && !matches!(id, SectionId::Export);
        if !self.global_done && before.is_none_or(after_globals) {
            let mut globals = GlobalSection::new();
            let (ty, init) = self.stack_global();
            globals.global(ty, &init);
            module.section(&globals);
            self.global_done = true;
        }
        if !self.export_done && self.global_done && before.is_none_or(after_exports) {
            let mut exports = ExportSection::new();
            exports.export(STACK_EXPORT, ExportKind::Global, self.global);
            module.section(&exports);
            self.export_done = true;
        }
        Ok(())
    }

    fn parse_custom_section(
        &mut self,
        _module: &mut wasm_encoder::Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        // Custom sections (names, the SDK's interface) do not affect execution; the host keeps the
        // original module for them.
        Ok(())
    }

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let mut function = self.new_function_with_parsed_locals(&func)?;
        let mut reader = func.get_operators_reader()?;
        while !reader.eof() {
            let op = reader.read()?;
            let cost = match &op {
                wasmparser::Operator::Call { function_index } => self
                    .info
                    .function_costs
                    .get(*function_index as usize)
                    .copied()
                    .unwrap_or(0),
                wasmparser::Operator::CallIndirect { type_index, .. } => {
                    self.info.indirect_cost(*type_index)
                }
                _ => 0,
            };
            if cost > 0 {
                self.enter(&mut function, cost);
            }
            function.instruction(&self.instruction(op)?);
            if cost > 0 {
                self.leave(&mut function, cost);
            }
        }
        code.function(&function);
        Ok(())
    }
}

/// Add stack metering with a budget of `budget` slots to a validated module.
pub fn instrument(wasm: &[u8], info: &ModuleInfo, budget: u32) -> Result<Vec<u8>, InstrumentError> {
    let mut meter = StackMeter {
        info,
        budget,
        global: info.globals,
        global_done: false,
        export_done: false,
    };
    let mut module = wasm_encoder::Module::new();
    meter
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| InstrumentError(e.to_string()))?;
    Ok(module.finish())
}
