console.log('nanofaas CLI: not built yet');
