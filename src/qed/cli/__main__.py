"""``python -m qed.cli``: the same as the ``qed`` script."""

from qed.cli import main

main()
