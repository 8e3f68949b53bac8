"""cross"""
