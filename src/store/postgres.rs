pub mod postgres {}
