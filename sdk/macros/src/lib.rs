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

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, Attribute, FnArg, GenericArgument, Ident, ImplItem, ItemImpl, Pat,
    PathArguments, ReturnType, Type,
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
        function.attrs.retain(|attr| match Kind::from_attr(attr) {
            Some(k) => {
                kind = Some(k);
                false
            }
            None => true,
        });
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
            format!(
                "{{\"name\":{},\"kind\":{},\"entry_point\":{},\"args\":[{}],\"returns\":{},\"doc\":{}}}",
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
