"""``python -m tinynet``: train a small network on scikit-learn's make_moons and report."""

import sys


def main(argv=None) -> int:
    from tinynet.demo import run_moons_demo

    return run_moons_demo(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
