# A program that reads its input, then fails with an uncaught exception.
import sys

print("args:", sys.argv[1:])
name = input("name? ")
print("hello", name)
try:
    input()
except EOFError:
    print("end of input")
numbers = {"one": 1}
print(numbers["two"])
