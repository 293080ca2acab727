//! The functions and types a guarded query may use, per dialect. Anything not listed is refused:
//! the dangerous ones (SQL or relation names as strings, files, settings, sleeps, locks, other
//! servers, sequences) are simply never on the list.

use sqlparser::ast::{Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, Value};

use super::SqlDialect;

/// Longest string `repeat`, `lpad` and `rpad` may build. A row is read whole before the byte cap
/// applies, so `repeat(note, 1000000000)` would hold a gigabyte in the server per value.
pub const MAX_BUILT_STRING: u64 = 10_000;

/// Safe in every supported dialect: aggregates, arithmetic, strings, conditionals, windows.
const COMMON: &[&str] = &[
    // aggregates
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    // arithmetic
    "abs",
    "ceil",
    "ceiling",
    "floor",
    "round",
    "sign",
    "sqrt",
    "power",
    "pow",
    "exp",
    "ln",
    "log",
    "log10",
    "mod",
    "greatest",
    "least",
    "pi",
    "degrees",
    "radians",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "atan2",
    // strings
    "lower",
    "upper",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "substr",
    "substring",
    "trim",
    "ltrim",
    "rtrim",
    "replace",
    "concat",
    "concat_ws",
    "left",
    "right",
    "lpad",
    "rpad",
    "reverse",
    "repeat",
    "ascii",
    "position",
    "instr",
    // conditionals
    "coalesce",
    "nullif",
    // window functions
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "nth_value",
    // date and time
    "current_date",
    "current_timestamp",
    "current_time",
    "now",
];

const POSTGRES: &[&str] = &[
    "bool_and",
    "bool_or",
    "every",
    "string_agg",
    "array_agg",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_slope",
    "regr_intercept",
    "regr_r2",
    "regr_count",
    "cbrt",
    "trunc",
    "div",
    "width_bucket",
    "log2",
    "btrim",
    "split_part",
    "initcap",
    "strpos",
    "starts_with",
    "regexp_replace",
    "regexp_substr",
    "translate",
    "md5",
    "chr",
    "to_char",
    "to_number",
    "to_date",
    "to_timestamp",
    "date_trunc",
    "date_part",
    "make_date",
    "make_timestamp",
    "age",
    "justify_days",
    "justify_hours",
    "localtimestamp",
    "localtime",
    "array_length",
    "cardinality",
    "unnest",
];

const REDSHIFT: &[&str] = &[
    "median",
    "listagg",
    "nvl",
    "nvl2",
    "decode",
    "dateadd",
    "datediff",
    "date_add",
    "getdate",
    "sysdate",
    "trunc",
    "date_trunc",
    "date_part",
    "to_char",
    "to_date",
    "to_number",
    "to_timestamp",
    "split_part",
    "initcap",
    "strpos",
    "btrim",
    "cbrt",
    "bool_and",
    "bool_or",
    "percentile_cont",
    "approximate",
    "months_between",
    "add_months",
    "last_day",
];

const SQLITE: &[&str] = &[
    "group_concat",
    "total",
    "ifnull",
    "iif",
    "date",
    "time",
    "datetime",
    "julianday",
    "strftime",
    "unixepoch",
    "typeof",
    "printf",
    "format",
    "trunc",
    "log2",
];

const MYSQL: &[&str] = &[
    "group_concat",
    "ifnull",
    "if",
    "truncate",
    "date",
    "date_format",
    "date_add",
    "date_sub",
    "datediff",
    "timestampdiff",
    "year",
    "month",
    "day",
    "dayofmonth",
    "dayofweek",
    "dayname",
    "monthname",
    "week",
    "weekofyear",
    "quarter",
    "hour",
    "minute",
    "second",
    "curdate",
    "curtime",
    "str_to_date",
    "unix_timestamp",
    "from_unixtime",
    "last_day",
    "locate",
    "char",
    "std",
    "bit_and",
    "bit_or",
    "makedate",
    "yearweek",
    "utc_date",
    "utc_timestamp",
];

pub fn is_allowed(dialect: SqlDialect, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let extra = match dialect {
        SqlDialect::Postgres => POSTGRES,
        SqlDialect::Redshift => REDSHIFT,
        SqlDialect::Sqlite => SQLITE,
        SqlDialect::Mysql => MYSQL,
    };
    COMMON.contains(&name.as_str()) || extra.contains(&name.as_str())
}

/// Casts may only name plain scalar types: never `regclass` and friends, which read catalogs.
const TYPES: &[&str] = &[
    "int",
    "integer",
    "bigint",
    "smallint",
    "int2",
    "int4",
    "int8",
    "tinyint",
    "mediumint",
    "numeric",
    "decimal",
    "real",
    "float",
    "float4",
    "float8",
    "double",
    "double precision",
    "text",
    "varchar",
    "char",
    "character",
    "character varying",
    "string",
    "nvarchar",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "timestamp with time zone",
    "timestamp without time zone",
    "datetime",
    "interval",
    "boolean",
    "bool",
    "signed",
    "unsigned",
    "signed integer",
    "unsigned integer",
    "uuid",
    "blob",
    "bytea",
    "binary",
];

pub fn is_allowed_type(rendered: &str) -> bool {
    let lower = rendered.to_ascii_lowercase();
    let base = lower.split('(').next().unwrap_or("").trim();
    let base = base.strip_suffix("[]").unwrap_or(base).trim();
    TYPES.contains(&base)
}

/// Functions whose output size is an argument: the size must be a literal within bounds.
pub fn check_size(f: &Function) -> Option<String> {
    let name = f.name.to_string().to_ascii_lowercase();
    if !matches!(name.as_str(), "repeat" | "lpad" | "rpad") {
        return None;
    }
    let FunctionArguments::List(list) = &f.args else {
        return Some(format!("`{name}` takes a string and a length"));
    };
    let size = match list.args.get(1) {
        Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))) => match &v.value {
            Value::Number(n, _) => n.parse::<u64>().ok(),
            _ => None,
        },
        _ => None,
    };
    match size {
        Some(n) if n <= MAX_BUILT_STRING => None,
        _ => Some(format!(
            "the length given to `{name}` must be a whole number up to {MAX_BUILT_STRING}"
        )),
    }
}
