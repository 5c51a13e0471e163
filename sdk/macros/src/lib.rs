//! The `#[contract]` attribute of `vellum-sdk`.
//!
//! It reads an `impl` block whose entry points are marked `#[instantiate]`, `#[execute]`,
//! `#[query]` or `#[migrate]`, leaves the block as written, and generates three things:
//!
//! 1. `impl vellum_sdk::Contract`: a `dispatch` function that decodes each method's JSON arguments
//!    into its parameters, calls it, and encodes its result as JSON. Native tests and the wasm
//!    build run this same function, so they cannot drift apart.
//! 2. On `wasm32`, one exported `[] -> []` function per entry point (`instantiate`, `migrate`,
//!    `execute.<name>`, `query.<name>`), each a two-line shim over `dispatch`.
//! 3. The contract's interface as JSON, in `Contract::INTERFACE` and, on `wasm32`, in the custom
//!    section `vellum:interface`, so a node or client can describe any deployed contract.
//!
//! It also has two derives: `#[derive(Event)]` (a type's topic) and `#[derive(ContractError)]`
//! (an enum of a contract's own errors, each with a stable code and message).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Fields, FnArg, GenericArgument, Ident,
    ImplItem, ItemImpl, LitInt, LitStr, Pat, PathArguments, ReturnType, Type,
};

/// Turn an `impl` block into a Vellum contract. See the `vellum-sdk` crate documentation.
#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    let reentrant = match attr.to_string().as_str() {
        "" => false,
        "reentrant" => true,
        _ => {
            return syn::Error::new(
                Span::call_site(),
                "#[contract] takes no arguments but `reentrant` (accept being called while on the call stack)",
            )
            .to_compile_error()
            .into()
        }
    };
    let mut item = parse_macro_input!(item as ItemImpl);
    match expand(&mut item, reentrant) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Instantiate,
    Execute,
    Query,
    Migrate,
}

impl Kind {
    fn from_attr(attr: &Attribute) -> Option<Self> {
        let ident = attr.path().get_ident()?.to_string();
        match ident.as_str() {
            "instantiate" => Some(Kind::Instantiate),
            "execute" => Some(Kind::Execute),
            "query" => Some(Kind::Query),
            "migrate" => Some(Kind::Migrate),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Instantiate => "instantiate",
            Kind::Execute => "execute",
            Kind::Query => "query",
            Kind::Migrate => "migrate",
        }
    }

    fn entry_point(self, method: &str) -> String {
        match self {
            Kind::Instantiate | Kind::Migrate => self.name().to_string(),
            Kind::Execute | Kind::Query => format!("{}.{method}", self.name()),
        }
    }
}

struct Method {
    kind: Kind,
    /// `#[query(members)]`: nodes answer it only for callers proving a member's key.
    members_only: bool,
    name: Ident,
    params: Vec<(Ident, Type)>,
    returns: Type,
    doc: String,
}

fn type_text(ty: &Type) -> String {
    quote!(#ty).to_string().replace(' ', "")
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn doc_text(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `T` from `Result<T>` or `Result<T, E>`.
fn ok_type(ret: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = ret else {
        return None;
    };
    let Type::Path(path) = ty.as_ref() else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    }
}

fn collect(item: &mut ItemImpl) -> syn::Result<Vec<Method>> {
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else {
            continue;
        };
        let mut kind = None;
        let mut members_only = false;
        let mut bad_argument = None;
        function.attrs.retain(|attr| match Kind::from_attr(attr) {
            Some(k) => {
                kind = Some(k);
                match (&attr.meta, k) {
                    (syn::Meta::Path(_), _) => {}
                    (syn::Meta::List(list), Kind::Query)
                        if list.tokens.to_string().trim() == "members" =>
                    {
                        members_only = true;
                    }
                    _ => bad_argument = Some(attr.clone()),
                }
                false
            }
            None => true,
        });
        if let Some(attr) = bad_argument {
            return Err(syn::Error::new_spanned(
                attr,
                "the only entry point argument is `members`, on a query: #[query(members)] (answered only to callers proving a member's key)",
            ));
        }
        let Some(kind) = kind else {
            continue;
        };
        let sig = &function.sig;
        if let Some(receiver) = sig.receiver() {
            return Err(syn::Error::new_spanned(
                receiver,
                "entry points are associated functions (no `self`): contract state lives in storage, through `Item` and `Map`",
            ));
        }
        if !sig.generics.params.is_empty() {
            return Err(syn::Error::new_spanned(
                &sig.generics,
                "entry points cannot be generic",
            ));
        }
        let mut params = Vec::new();
        for input in &sig.inputs {
            let FnArg::Typed(typed) = input else { continue };
            let Pat::Ident(ident) = typed.pat.as_ref() else {
                return Err(syn::Error::new_spanned(
                    &typed.pat,
                    "entry point parameters must be plain names: each becomes a JSON field",
                ));
            };
            params.push((ident.ident.clone(), (*typed.ty).clone()));
        }
        let returns = ok_type(&sig.output).ok_or_else(|| {
            syn::Error::new_spanned(
                &sig.output,
                "entry points return `vellum_sdk::Result<T>` (or `Result<T, E>` with `E: Into<vellum_sdk::Error>`)",
            )
        })?;
        methods.push(Method {
            kind,
            members_only,
            name: sig.ident.clone(),
            params,
            returns,
            doc: doc_text(&function.attrs),
        });
    }
    for kind in [Kind::Instantiate, Kind::Migrate] {
        if let Some(second) = methods.iter().filter(|m| m.kind == kind).nth(1) {
            return Err(syn::Error::new_spanned(
                &second.name,
                format!("a contract has at most one #[{}] method", kind.name()),
            ));
        }
    }
    Ok(methods)
}

fn interface(contract: &str, methods: &[Method]) -> String {
    let methods: Vec<String> = methods
        .iter()
        .map(|m| {
            let args: Vec<String> = m
                .params
                .iter()
                .map(|(name, ty)| {
                    format!(
                        "{{\"name\":{},\"type\":{}}}",
                        json_string(&name.to_string()),
                        json_string(&type_text(ty))
                    )
                })
                .collect();
            // `access` only where it is not public: interfaces of contracts without
            // member-only queries stay as they were.
            let access = match m.members_only {
                true => ",\"access\":\"members\"",
                false => "",
            };
            format!(
                "{{\"name\":{},\"kind\":{},\"entry_point\":{},\"args\":[{}],\"returns\":{},\"doc\":{}{access}}}",
                json_string(&m.name.to_string()),
                json_string(m.kind.name()),
                json_string(&m.kind.entry_point(&m.name.to_string())),
                args.join(","),
                json_string(&type_text(&m.returns)),
                json_string(&m.doc),
            )
        })
        .collect();
    format!(
        "{{\"abi\":1,\"contract\":{},\"methods\":[{}]}}",
        json_string(contract),
        methods.join(",")
    )
}

fn expand(item: &mut ItemImpl, reentrant: bool) -> syn::Result<Tokens> {
    let methods = collect(item)?;
    let self_ty = &item.self_ty;
    let contract_name = match self_ty.as_ref() {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        other => type_text(other),
    };
    let interface = interface(&contract_name, &methods);
    let sdk = quote!(::vellum_sdk);

    let arms = methods.iter().map(|m| {
        let entry_point = m.kind.entry_point(&m.name.to_string());
        let name = &m.name;
        let fields = m.params.iter().map(|(n, t)| quote!(#n: #t));
        let args = m.params.iter().map(|(n, _)| quote!(args.#n));
        quote! {
            #entry_point => {
                #[derive(#sdk::__private::serde::Deserialize)]
                #[serde(crate = "::vellum_sdk::__private::serde", deny_unknown_fields)]
                struct Args { #(#fields,)* }
                let args: Args = #sdk::__private::decode_args(input)?;
                let result = <#self_ty>::#name(#(#args),*).map_err(::core::convert::Into::<#sdk::Error>::into)?;
                #sdk::__private::encode_result(&result)
            }
        }
    });
    // Every contract has an `instantiate` export; without a method it does nothing.
    let default_instantiate = (!methods.iter().any(|m| m.kind == Kind::Instantiate)).then(|| {
        quote! { "instantiate" => #sdk::__private::encode_result(&()), }
    });

    let mut exports: Vec<String> = methods
        .iter()
        .map(|m| m.kind.entry_point(&m.name.to_string()))
        .collect();
    if default_instantiate.is_some() {
        exports.push("instantiate".to_string());
    }
    let shims = exports.iter().map(|entry_point| {
        let shim = format_ident!("__vellum_entry_{}", entry_point.replace('.', "_"));
        quote! {
            #[export_name = #entry_point]
            extern "C" fn #shim() {
                #sdk::__private::run::<#self_ty>(#entry_point)
            }
        }
    });
    let interface_bytes = interface.as_bytes();
    let interface_len = interface_bytes.len();
    let interface_literal = syn::LitByteStr::new(interface_bytes, Span::call_site());

    let reentrant_section = match reentrant {
        true => quote! {
            #[link_section = "vellum:reentrant"]
            #[used]
            static REENTRANT: [u8; 1] = [1];
        },
        false => quote! {},
    };
    Ok(quote! {
        #item

        impl #sdk::Contract for #self_ty {
            const INTERFACE: &'static str = #interface;
            const REENTRANT: bool = #reentrant;

            fn dispatch(
                entry_point: &str,
                input: &[u8],
            ) -> ::core::result::Result<#sdk::__private::Vec<u8>, #sdk::Error> {
                match entry_point {
                    #(#arms)*
                    #default_instantiate
                    _ => ::core::result::Result::Err(#sdk::__private::unknown_entry_point(entry_point)),
                }
            }
        }

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #(#shims)*

            #[link_section = "vellum:interface"]
            #[used]
            static INTERFACE: [u8; #interface_len] = *#interface_literal;

            #reentrant_section
        };
    })
}

/// Implement `vellum_sdk::Event`: the topic is the type's name in snake case
/// (`NotaryAdded` -> `notary_added`) or `#[event(topic = "...")]`; the data is the value as JSON.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(item: TokenStream) -> TokenStream {
    derive(item, event)
}

/// The longest topic the host accepts (`docs/abi.md`, `emit_event`).
const TOPIC_MAX: usize = 256;

fn event(input: &DeriveInput) -> syn::Result<Tokens> {
    let mut topic = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("event")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("topic") {
                let value: LitStr = meta.value()?.parse()?;
                topic = Some((value.value(), value.span()));
                Ok(())
            } else {
                Err(meta.error("#[event] takes only `topic = \"...\"`"))
            }
        })?;
    }
    let (topic, span) =
        topic.unwrap_or_else(|| (snake_case(&input.ident.to_string()), input.ident.span()));
    if topic.is_empty() || topic.len() > TOPIC_MAX {
        return Err(syn::Error::new(
            span,
            format!("an event topic is 1 to {TOPIC_MAX} bytes"),
        ));
    }
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::vellum_sdk::Event for #ident #type_generics #where_clause {
            const TOPIC: &'static str = #topic;
        }
    })
}

/// A contract's own errors, one enum variant each: `#[error(CODE, "message")]` on every variant,
/// CODE 100 or above (below are the SDK's) and unique within the enum; the message is a format
/// string over the variant's fields (`{0}` for a tuple field, `{name}` for a named one). It
/// generates `From<Enum> for vellum_sdk::Error`, so `?` and `ensure!` take the variants, a
/// `u32` constant per variant in SCREAMING_SNAKE_CASE (`NotANotary` -> `NOT_A_NOTARY`) and
/// `fn code(&self) -> u32`. See `vellum_sdk::Error`.
#[proc_macro_derive(ContractError, attributes(error))]
pub fn derive_contract_error(item: TokenStream) -> TokenStream {
    derive(item, contract_error)
}

/// A derive's expansion of `item`, or its error as a compile error.
fn derive(item: TokenStream, expand: fn(&DeriveInput) -> syn::Result<Tokens>) -> TokenStream {
    let input = parse_macro_input!(item as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The first code a contract's own errors may take: those below are the SDK's.
const FIRST_CONTRACT_CODE: u32 = 100;

fn contract_error(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[derive(ContractError)] is for an enum: one variant per error",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a contract error enum cannot be generic",
        ));
    }
    let ident = &input.ident;
    let mut codes: Vec<(u32, Ident)> = Vec::new();
    let mut arms = Vec::new();
    let mut code_arms = Vec::new();
    let mut consts = Vec::new();
    for variant in &data.variants {
        let attr = variant
            .attrs
            .iter()
            .find(|a| a.path().is_ident("error"))
            .ok_or_else(|| {
                syn::Error::new_spanned(
                    &variant.ident,
                    "each variant needs #[error(CODE, \"message\")], CODE 100 or above",
                )
            })?;
        let (code, message) = attr.parse_args_with(|stream: syn::parse::ParseStream| {
            let code: LitInt = stream.parse()?;
            stream.parse::<syn::Token![,]>()?;
            let message: LitStr = stream.parse()?;
            Ok((code, message))
        })?;
        let value: u32 = code.base10_parse()?;
        if value < FIRST_CONTRACT_CODE {
            return Err(syn::Error::new_spanned(
                &code,
                format!(
                    "codes below {FIRST_CONTRACT_CODE} are the SDK's (vellum_sdk::Error's constants); \
                     a contract's own errors use {FIRST_CONTRACT_CODE} and above"
                ),
            ));
        }
        if let Some((_, other)) = codes.iter().find(|(c, _)| *c == value) {
            return Err(syn::Error::new_spanned(
                &code,
                format!("code {value} is also {other}'s: each error has its own code"),
            ));
        }
        codes.push((value, variant.ident.clone()));
        let name = &variant.ident;
        let constant = format_ident!("{}", screaming_snake_case(&name.to_string()));
        let doc = format!("The code of [`{ident}::{name}`]: {value}.");
        consts.push(quote! {
            #[doc = #doc]
            pub const #constant: u32 = #value;
        });
        let (pattern, message) = match &variant.fields {
            Fields::Unit => (quote!(#ident::#name), message),
            Fields::Named(fields) => {
                let names = fields.named.iter().map(|f| &f.ident);
                (quote!(#ident::#name { #(#names),* }), message)
            }
            Fields::Unnamed(fields) => {
                let names =
                    (0..fields.unnamed.len()).map(|i| Ident::new(&format!("_{i}"), message.span()));
                let named = positional_to_named(&message.value())
                    .map_err(|error| syn::Error::new(message.span(), error))?;
                let message = LitStr::new(&named, message.span());
                (quote!(#ident::#name( #(#names),* )), message)
            }
        };
        let wildcard = match &variant.fields {
            Fields::Unit => quote!(#ident::#name),
            Fields::Named(_) => quote!(#ident::#name { .. }),
            Fields::Unnamed(_) => quote!(#ident::#name(..)),
        };
        arms.push(quote! {
            #pattern => ::vellum_sdk::Error::new(#value, ::vellum_sdk::__private::format!(#message)),
        });
        code_arms.push(quote!(#wildcard => #value,));
    }
    Ok(quote! {
        impl #ident {
            #(#consts)*

            /// This error's code.
            pub const fn code(&self) -> u32 {
                match *self {
                    #(#code_arms)*
                }
            }
        }

        impl ::core::convert::From<#ident> for ::vellum_sdk::Error {
            #[allow(unused_variables)]
            fn from(__vellum_error: #ident) -> Self {
                match __vellum_error {
                    #(#arms)*
                }
            }
        }
    })
}

/// `{0}` -> `{_0}` in a format string (`{{` left alone), so tuple fields bound as `_0`, `_1`, ...
/// are captured by name. An implicit position (`{}`, `{:?}`) is refused: say which field.
fn positional_to_named(format: &str) -> Result<String, String> {
    let mut out = String::with_capacity(format.len() + 4);
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '{' if chars.peek() == Some(&'{') => out.extend(chars.next()),
            '{' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('_'),
            '{' if matches!(chars.peek(), Some('}' | ':')) => {
                return Err(String::from(
                    "name the field in the message: `{0}`, `{1:?}`, ... (not `{}`)",
                ))
            }
            _ => {}
        }
    }
    Ok(out)
}

/// `NotaryAdded` -> `notary_added`; an acronym stays one word: `NFTMinted` -> `nft_minted`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            if !previous.is_ascii_uppercase() || next_is_lower {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// `NotANotary` -> `NOT_A_NOTARY`.
fn screaming_snake_case(name: &str) -> String {
    snake_case(name).to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuple_fields_are_named_in_messages() {
        let named = |format| positional_to_named(format).expect("rewritten");
        assert_eq!(named("{0} is not {1:?}"), "{_0} is not {_1:?}");
        assert_eq!(named("{{0}} and {0}"), "{{0}} and {_0}");
        assert_eq!(named("no fields {here}"), "no fields {here}");
        assert!(positional_to_named("{} is not").is_err());
        assert!(positional_to_named("{:?}").is_err());
    }

    fn derive_error(source: &str) -> Result<String, String> {
        let input: DeriveInput = syn::parse_str(source).expect("an item");
        contract_error(&input)
            .map(|tokens| tokens.to_string())
            .map_err(|error| error.to_string())
    }

    /// A contract's codes are its own (100 and above), each once; every variant has one.
    #[test]
    fn error_codes_are_checked() {
        let fine = derive_error(
            r#"enum E { #[error(100, "a {0}")] A(u8), #[error(101, "b {x}")] B { x: u8 }, #[error(102, "c")] C }"#,
        )
        .expect("derives");
        assert!(fine.contains("pub const A : u32 = 100u32"), "{fine}");
        for (source, says) in [
            (
                r#"enum E { #[error(5, "a")] A }"#,
                "codes below 100 are the SDK's",
            ),
            (
                r#"enum E { #[error(100, "a")] A, #[error(100, "b")] B }"#,
                "code 100 is also A's",
            ),
            (
                r#"enum E { #[error(100, "a")] A, B }"#,
                "each variant needs",
            ),
            (r#"struct E;"#, "is for an enum"),
            (r#"enum E { #[error("a")] A }"#, "expected integer literal"),
        ] {
            let error = derive_error(source).expect_err(source);
            assert!(error.contains(says), "{source}: {error}");
        }
    }

    #[test]
    fn names_change_case() {
        assert_eq!(snake_case("NotaryAdded"), "notary_added");
        assert_eq!(snake_case("Anchored"), "anchored");
        assert_eq!(screaming_snake_case("NotANotary"), "NOT_A_NOTARY");
        assert_eq!(snake_case("NFTMinted"), "nft_minted");
        assert_eq!(screaming_snake_case("IOError"), "IO_ERROR");
        assert_eq!(snake_case("LoyaltyV2"), "loyalty_v2");
    }
}
