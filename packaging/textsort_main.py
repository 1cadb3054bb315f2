"""Entry point of the frozen app: one executable for the window and the CLI.

`textsort-app` with no arguments (or only GUI options) opens the window;
`textsort-app classify ...`, `models`, `self-test`, `--version` run the CLI.
"""
import sys

CLI_COMMANDS = {"classify", "classify-dataset", "evaluate", "models", "serve", "self-test", "--version", "-V"}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in CLI_COMMANDS:
        from textsort.frontends.cli import main as cli_main
        return cli_main()
    from textsort.gui.app import main as gui_main
    return gui_main()


if __name__ == "__main__":
    sys.exit(main())
