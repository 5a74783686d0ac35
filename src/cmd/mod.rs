//! One module per subcommand: each wires observe → decide → render.

pub mod audit;
pub mod bind;
pub mod complete;
pub mod cutover;
pub mod migrate;
pub mod switch;
