"""_compile"""
