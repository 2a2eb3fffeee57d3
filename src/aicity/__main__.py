from aicity.cli import main

main()
