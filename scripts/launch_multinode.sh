#!/usr/bin/env bash
# Launch `phone-r1 train` on several nodes with accelerate. Run the same command on every node.
#
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 ACCELERATE_CONFIG=training/accelerate/zero3.yaml \
#       scripts/launch_multinode.sh grpo --config training/recipes/qwen2.5-vl-7b/grpo_full.yaml
#
# Environment:
#   NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   required (SLURM: see scripts/slurm/train_grpo.sbatch)
#   ACCELERATE_CONFIG    required: the accelerate config the recipe is written for (its header names it:
#                        zero2.yaml for the 3B recipes, zero3.yaml for 7B full fine-tuning); no default,
#                        since one default would silently run some recipe under the wrong ZeRO stage
#   GPUS_PER_NODE        processes per node (default: GPUs that nvidia-smi lists)
#   DRY_RUN=1            print the command instead of running it
# Everything after the script name goes to `phone-r1 train` (subcommand, --config, overrides).
set -euo pipefail

missing=()
for var in NNODES NODE_RANK MASTER_ADDR MASTER_PORT ACCELERATE_CONFIG; do
    [[ -n "${!var:-}" ]] || missing+=("$var")
done
if (( ${#missing[@]} )); then
    echo "launch_multinode.sh: set ${missing[*]} in the environment (nodes, this node's rank 0..NNODES-1, rank 0's address, a free port, and the accelerate config the recipe's header names: training/accelerate/zero2.yaml or zero3.yaml)" >&2
    exit 2
fi
if (( $# == 0 )); then
    echo "launch_multinode.sh: expected the train subcommand and its arguments, e.g. grpo --config RECIPE.yaml" >&2
    exit 2
fi
if ! [[ "$NNODES" =~ ^[0-9]+$ && "$NODE_RANK" =~ ^[0-9]+$ ]] || (( NODE_RANK >= NNODES )); then
    echo "launch_multinode.sh: NODE_RANK must be in 0..NNODES-1, found NODE_RANK=$NODE_RANK NNODES=$NNODES" >&2
    exit 2
fi

if [[ -z "${GPUS_PER_NODE:-}" ]]; then
    if command -v nvidia-smi >/dev/null 2>&1; then
        GPUS_PER_NODE=$(nvidia-smi -L | wc -l)
    else
        echo "launch_multinode.sh: no nvidia-smi here; set GPUS_PER_NODE" >&2
        exit 2
    fi
fi
if [[ ! -f "$ACCELERATE_CONFIG" ]]; then
    echo "launch_multinode.sh: ACCELERATE_CONFIG=$ACCELERATE_CONFIG is not a file (relative paths start at $PWD)" >&2
    exit 2
fi

cmd=(accelerate launch
    --config_file "$ACCELERATE_CONFIG"
    --num_machines "$NNODES"
    --machine_rank "$NODE_RANK"
    --main_process_ip "$MASTER_ADDR"
    --main_process_port "$MASTER_PORT"
    --num_processes $(( NNODES * GPUS_PER_NODE ))
    --rdzv_backend static
    --same_network
    -m phone_r1.cli train "$@")

if [[ "${DRY_RUN:-0}" == "1" ]]; then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
exec "${cmd[@]}"
