from lotse.cli import main

main()
