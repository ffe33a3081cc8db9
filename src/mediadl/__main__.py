from mediadl.cli import main

main()
