# Sourced by the other scripts: the PATH and variables every build uses.
# wasm-opt from tools/ comes first, so cargo-leptos never looks for one online.
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# cargo-leptos sets this while it builds; setting it for plain cargo as well keeps
# the leptos crates from being rebuilt each time one switches between the two.
export LEPTOS_OUTPUT_NAME=causeway
