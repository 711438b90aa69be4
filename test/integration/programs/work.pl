#!/usr/bin/perl
# work.pl - real Perl work for the LD_PRELOAD integration test: hashes that grow and shrink,
# regular expressions, sorting, string building, nested data. Deterministic output (own PRNG,
# sorted keys), so any corrupted value changes stdout.
use strict;
use warnings;

my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed; }
my @words = qw(lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor);

my %h;
for my $i (0 .. 59999) {
    my $k = $words[rnd() % @words] . "-$i";
    $h{$k} = [ $i, "x" x ($i % 13), { sq => $i * $i } ];
}
my $n = 0;
for my $k (sort keys %h) { delete $h{$k} if $n++ % 3 == 0; }
my $sum = 0;
$sum += $h{$_}[0] for keys %h;
printf "hash %d %d\n", scalar(keys %h), $sum;

my $text = join "\n", map { sprintf "%s=%d; %s\@%s.org", $words[rnd() % @words], rnd() % 1000000,
    $words[rnd() % @words], $words[rnd() % @words] } 1 .. 30000;
my @pairs = ($text =~ /(\w+)=(\d+)/g);
my %count;
$count{$1}++ while $text =~ /(\w+)\@\w+\.org/g;
(my $sub = $text) =~ s/(\d+)/length($1)/ge;
printf "regex %d %s %d\n", scalar(@pairs), join(",", map {"$_:$count{$_}"} sort keys %count), length($sub);

my @nums = map { rnd() } 1 .. 200000;
my @sorted = sort { $a <=> $b } @nums;
my @bystr = sort { $a cmp $b } map { "$_" } @nums[0 .. 9999];
printf "sort %d %d %d %s\n", $sorted[0], $sorted[-1], $sorted[100000], $bystr[0];

my @lists = map { [ map { $_ * 2 } 0 .. ($_ % 100) ] } 1 .. 20000;
my $tot = 0;
$tot += scalar(@$_) for @lists;
my $s = "";
$s .= chr(65 + $_ % 26) for 1 .. 500000;
printf "lists %d str %d %s\n", $tot, length($s), substr($s, 1000, 10);
