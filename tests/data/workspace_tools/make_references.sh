#!/bin/sh
# Writes the reference outputs of pyhf's own command line (pyhf 0.7.6 from scikit-hep/pyhf's sources,
# run with Debian's python3 and python3-jsonschema/-jsonpatch/-click/-yaml) for the C++ tests of
# `agnostic workspace`. pyhf is not a test dependency: this is run by hand, its outputs are committed.
# usage: PYHF_SRC=/path/to/pyhf/src sh make_references.sh   (in this folder)
set -e
pyhf() { PYTHONPATH="$PYHF_SRC" /usr/bin/python3 -c 'import sys; from pyhf.cli import cli; sys.argv[0] = "pyhf"; cli()' "$@"; }
mkdir -p pyhf
pyhf inspect two_channels.json --output-file pyhf/inspect_two_channels.json > pyhf/inspect_two_channels.txt
pyhf inspect other_channel.json > pyhf/inspect_other_channel.txt
pyhf digest two_channels.json > pyhf/digest_two_channels.txt
pyhf digest other_channel.json > pyhf/digest_other_channel.txt
pyhf sort two_channels.json > pyhf/sort_two_channels.json
pyhf prune two_channels.json --channel CR --modifier-type lumi --measurement alt > pyhf/prune_channel_type_measurement.json
pyhf prune two_channels.json --sample signal --modifier bkg_shape --modifier staterror_SR > pyhf/prune_sample_modifiers.json
pyhf rename two_channels.json --channel SR SignalRegion --sample background bkg --modifier mu mu_sig \
  --modifier sig_theory theory_sig --measurement nominal main > pyhf/rename_all.json
pyhf combine two_channels.json other_channel.json > pyhf/combine_none.json
pyhf combine two_channels.json overlapping.json --join outer --merge-channels > pyhf/combine_outer_merge.json
pyhf combine two_channels.json overlapping.json --join 'left outer' > pyhf/combine_left_outer.json
pyhf combine two_channels.json overlapping.json --join 'right outer' > pyhf/combine_right_outer.json
pyhf combine two_channels.json overlapping.json --join 'right outer' --merge-channels > pyhf/combine_right_outer_merge.json
